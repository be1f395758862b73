import Testing

@testable import EstafetteCore

@Suite("MeshNode")
struct MeshNodeTests {
    static let a = 0
    static let b = 1
    static let c = 2

    static func harness(_ count: Int = 3) -> MeshHarness {
        MeshHarness(identities: Array([Fixture.alice, Fixture.bob, Fixture.carol].prefix(count)))
    }

    static func dm(
        _ text: String, from: SigningKeyPair = Fixture.alice, to: SigningKeyPair, expiresAt: UInt64 = Fixture.expiry
    )
        throws -> Envelope
    {
        try DirectMessage.seal(
            text: text, from: from, to: to.publicKey, createdAt: Fixture.nowSeconds, expiresAt: expiresAt)
    }

    static func carried(_ n: Int, expiresAt: UInt64 = Fixture.expiry) -> Envelope {
        Envelope(kind: .channel, expiresAt: expiresAt, body: Array("carried \(n)".utf8))
    }

    static func multicasts(_ actions: [MeshNode.Action]) -> [[UInt8]] {
        actions.compactMap { if case .multicast(let d, _) = $0 { return d } else { return nil } }
    }

    static func multicasts(_ submission: MeshNode.Submission) -> [[UInt8]] { multicasts(submission.actions) }

    static func stores(_ submission: MeshNode.Submission) -> [MeshHarness.Stored] { stores(submission.actions) }

    static func stores(_ actions: [MeshNode.Action]) -> [MeshHarness.Stored] {
        actions.compactMap {
            if case .store(let e, let m) = $0 { return MeshHarness.Stored(envelope: e, message: m) } else { return nil }
        }
    }

    static func open(_ datagram: [UInt8]) throws -> Packet {
        try MeshKey.publicDefault.open(datagram).packet
    }

    /// The packets of the datagrams multicast on every interface (`except: nil`), as repair sends them.
    static func packetsToAll(_ actions: [MeshNode.Action]) throws -> [Packet] {
        try actions.compactMap { action -> Packet? in
            guard case .multicast(let d, nil) = action else { return nil }
            return try open(d)
        }
    }

    // MARK: - Dissemination

    @Test("a direct message from A reaches B's store with its text; C carries it unread")
    func directMessage() throws {
        var mesh = Self.harness()
        let envelope = try Self.dm("meet at noon", to: Fixture.bob)
        let bytes = envelope.encoded()
        let id = EnvelopeID(ofEncoded: bytes)
        let stored = StoredEnvelope(id: id, kind: .direct, expiresAt: Fixture.expiry, bytes: bytes)

        let submitted = try mesh.submit(envelope, at: Self.a)
        #expect(submitted.first == .store(stored, message: nil))  // A cannot read a message for Bob
        #expect(Self.multicasts(submitted).count == 1)
        #expect(try Self.open(Self.multicasts(submitted)[0]) == .envelope(bytes))

        let nonce = try #require(mesh.storeLog[Self.b].first?.message?.authorNonce)
        #expect(nonce.count == 24, "a direct message is named by its inner nonce")
        let expected = ReceivedMessage(
            id: id, kind: .direct, sender: Fixture.alice.publicKey, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry, text: "meet at noon", sequence: nil, authorNonce: nonce)
        #expect(mesh.storeLog[Self.b] == [MeshHarness.Stored(envelope: stored, message: expected)])
        #expect(mesh.storeLog[Self.c] == [MeshHarness.Stored(envelope: stored, message: nil)])
        // B has one interface: it stores and passes nothing on.
        #expect(mesh.actionLog[Self.b] == [.store(stored, message: expected)])
        // A node bridging several interfaces passes a new envelope on to all but the one it came in on.
        var bridge = Self.harness(3).nodes[Self.b]
        bridge.interfacesChanged(count: 2)
        let bridged = bridge.receive(
            MeshKey.publicDefault.seal(.envelope(bytes), session: 1), from: mesh.addresses[Self.a], now: mesh.now)
        #expect(bridged.first == .store(stored, message: expected))
        if case .multicast(_, let except) = bridged.last {
            #expect(except == MeshHarness.interface)
        } else {
            Issue.record("expected a multicast, got \(String(describing: bridged.last))")
        }
        for i in [Self.b, Self.c] {
            #expect(mesh.nodes[i].holds(id))
            #expect(mesh.nodes[i].counters["envelopes_new"] == 1)
        }
        #expect(mesh.nodes[Self.b].counters["messages_delivered"] == 1)
        #expect(mesh.nodes[Self.c].counters["messages_delivered"] == 0)
    }

    @Test("an alert reaches every node, verified")
    func alertReachesAll() throws {
        var mesh = Self.harness()
        let alert = try Alert.sign(
            text: "flood on the east bank", by: Fixture.carol, sequence: 3, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry)
        try mesh.submit(alert, at: Self.c)
        for i in [Self.a, Self.b, Self.c] {
            let messages = mesh.messages(i)
            #expect(messages.count == 1, "node \(i)")
            #expect(messages.first?.kind == .alert)
            #expect(messages.first?.text == "flood on the east bank")
            #expect(messages.first?.sender == Fixture.carol.publicKey)
            #expect(messages.first?.sequence == 3)
        }
    }

    @Test("an envelope too big for one datagram travels as fragments and is reassembled")
    func fragmentedEnvelope() throws {
        var mesh = Self.harness()
        let text = String(repeating: "long alert text. ", count: 1_200)  // ≈ 20 KB
        let alert = try Alert.sign(
            text: text, by: Fixture.alice, sequence: 1, createdAt: Fixture.nowSeconds, expiresAt: Fixture.expiry)
        let submitted = try mesh.submit(alert, at: Self.a)
        let datagrams = Self.multicasts(submitted)
        #expect(datagrams.count > 10)
        #expect(datagrams.allSatisfy { $0.count <= Packet.maxDatagramBytes })
        for i in [Self.b, Self.c] {
            #expect(mesh.messages(i).map(\.text) == [text])
            #expect(mesh.nodes[i].reassemblyBytesHeld == 0)
        }
    }

    @Test("delivering the same datagram twice stores once")
    func duplicateDatagram() throws {
        var mesh = Self.harness(2)
        let actions = try mesh.nodes[Self.a].submit(Self.dm("once", to: Fixture.bob), now: mesh.now)
        let datagram = Self.multicasts(actions)[0]
        let first = mesh.deliver(datagram, from: Self.a, to: Self.b)
        let second = mesh.deliver(datagram, from: Self.a, to: Self.b)
        #expect(Self.stores(first).count == 1)
        #expect(second.isEmpty)
        #expect(mesh.storeLog[Self.b].count == 1)
        #expect(mesh.nodes[Self.b].counters["envelopes_new"] == 1)
        #expect(mesh.nodes[Self.b].counters["envelopes_duplicate"] == 1)
        // The same envelope in a freshly sealed datagram (new nonce) is still a duplicate.
        let again = mesh.nodes[Self.a].datagrams(
            forEncoded: mesh.storeLog[Self.b][0].envelope.bytes, id: mesh.storeLog[Self.b][0].envelope.id)
        #expect(Self.stores(mesh.deliver(again[0], from: Self.a, to: Self.b)).isEmpty)
        #expect(mesh.nodes[Self.b].counters["envelopes_duplicate"] == 2)
    }

    // MARK: - Anti-entropy

    @Test("a node that was away catches up through beacons, inventories and wants, storing each envelope once")
    func catchUp() throws {
        var mesh = Self.harness()
        mesh.absent = [Self.c]
        var ids: [EnvelopeID] = []
        for i in 1...3 {
            let envelope = try Self.dm("message \(i)", to: Fixture.carol)
            ids.append(EnvelopeID(ofEncoded: envelope.encoded()))
            try mesh.submit(envelope, at: Self.a)
        }
        #expect(mesh.storedIDs(Self.b) == ids)
        #expect(mesh.storeLog[Self.c].isEmpty)
        #expect(mesh.nodes[Self.c].envelopeCount == 0)

        mesh.absent = []
        mesh.now += 3_000
        mesh.fireBeacons()

        #expect(Set(mesh.storedIDs(Self.c)) == Set(ids))
        #expect(mesh.storedIDs(Self.c).count == 3)  // exactly once each
        #expect(Set(mesh.messages(Self.c).map(\.text)) == ["message 1", "message 2", "message 3"])
        #expect(mesh.messages(Self.c).allSatisfy { $0.sender == Fixture.alice.publicKey })
        #expect(mesh.storeLog[Self.a].count == 3)
        #expect(mesh.storeLog[Self.b].count == 3)
        for i in [Self.a, Self.b] {
            #expect(mesh.nodes[i].storeDigest == mesh.nodes[Self.c].storeDigest)
        }
        // The nodes holding more published their inventories; C learnt from them what it lacked.
        #expect(mesh.nodes[Self.a].counters["inventory_rounds"] + mesh.nodes[Self.b].counters["inventory_rounds"] >= 1)

        // Now in sync: another round only exchanges beacons.
        let before = mesh.delivered.count
        mesh.now += 3_000
        mesh.fireBeacons()
        let round = mesh.delivered[before...]
        #expect(round.count == 6)
        #expect(try round.allSatisfy { if case .beacon = try Self.open($0.datagram) { true } else { false } })
        #expect(mesh.storeLog[Self.c].count == 3)
    }

    @Test("catch-up works across several inventory pages")
    func catchUpManyPages() throws {
        // Paging, not the answer budget (HostileBoundsTests): requests here earn plenty.
        var settings = MeshNode.Settings()
        settings.answerBytesPerByte = 1_000
        var mesh = MeshHarness(identities: [Fixture.alice, Fixture.bob], settings: settings)
        mesh.absent = [Self.b]
        let count = 2 * Packet.maxPrefixesPerPacket + 20
        for n in 0..<count {
            try mesh.submit(Self.carried(n), at: Self.a)
        }
        mesh.absent = []
        // Answers are paid by requests (at most 40 KB saved up), so a large catch-up may take a few rounds.
        for _ in 0..<10 where mesh.nodes[Self.b].envelopeCount < count {
            mesh.now += 4_000
            mesh.fireBeacons()
        }
        #expect(
            mesh.nodes[Self.b].envelopeCount == count,
            "a: \(mesh.nodes[Self.a].counters.values), b: \(mesh.nodes[Self.b].counters.values)")
        #expect(Set(mesh.storedIDs(Self.b)).count == count)
        #expect(mesh.storedIDs(Self.b).count == count)
        #expect(mesh.nodes[Self.b].storeDigest == mesh.nodes[Self.a].storeDigest)
    }

    @Test("a differing beacon schedules an inventory within the repair window, at most once per repair interval")
    func beaconAnswer() throws {
        var mesh = Self.harness(2)
        let envelope = Self.carried(1)
        _ = try mesh.nodes[Self.b].submit(envelope, now: mesh.now)
        let id = EnvelopeID(ofEncoded: envelope.encoded())
        let emptyBeacon = MeshKey.publicDefault.seal(
            .beacon(count: 0, digest: .zero), session: mesh.nodes[Self.a].session)
        let settings = MeshNode.Settings()

        let answer = mesh.nodes[Self.b].receive(emptyBeacon, from: mesh.addresses[Self.a], now: mesh.now)
        guard case .scheduleTimer(.repair, let due) = answer.last else {
            Issue.record("expected a repair timer, got \(answer)")
            return
        }
        #expect(!answer.contains { if case .multicast = $0 { true } else { false } }, "nothing is sent at once")
        #expect((mesh.now..<(mesh.now + settings.repairWindowMillis)).contains(due))
        let fired = mesh.nodes[Self.b].timerFired(.repair, now: due)
        #expect(fired.count == 1)
        guard case .multicast(let datagram, nil) = fired.first else {
            Issue.record("expected a multicast inventory, got \(fired)")
            return
        }
        let (count, digest) = mesh.nodes[Self.b].storeDigest
        #expect(
            try Self.open(datagram)
                == .inventory(lo: 0, hi: .max, count: UInt32(count), digest: digest, prefixes: [id.prefix]))

        // Another differing beacon soon after schedules nothing; one a repair interval later does.
        let soon = mesh.nodes[Self.b].receive(emptyBeacon, from: mesh.addresses[Self.a], now: due + 1)
        #expect(!soon.contains(where: { if case .scheduleTimer(.repair, _) = $0 { true } else { false } }))
        let later = mesh.nodes[Self.b].receive(
            emptyBeacon, from: mesh.addresses[Self.a], now: due + settings.repairIntervalMillis)
        #expect(later.contains(where: { if case .scheduleTimer(.repair, _) = $0 { true } else { false } }))

        // A beacon that matches our own store schedules nothing.
        let matching = MeshKey.publicDefault.seal(
            .beacon(count: UInt32(count), digest: MeshNode.beaconDigest(digest, session: 77)), session: 77)
        #expect(mesh.nodes[Self.b].receive(matching, from: mesh.addresses[Self.a], now: due + 2).isEmpty)
    }

    @Test("an inventory from a node holding exactly what we hold suppresses ours")
    func inventorySuppression() throws {
        var mesh = Self.harness(2)
        _ = try mesh.nodes[Self.b].submit(Self.carried(1), now: mesh.now)
        let empty = MeshKey.publicDefault.seal(.beacon(count: 0, digest: .zero), session: 1)
        let answer = mesh.nodes[Self.b].receive(empty, from: mesh.addresses[Self.a], now: mesh.now)
        guard case .scheduleTimer(.repair, let due) = answer.last else {
            Issue.record("expected a repair timer, got \(answer)")
            return
        }
        let (count, digest) = mesh.nodes[Self.b].storeDigest
        let twin = MeshKey.publicDefault.seal(
            .inventory(lo: 0, hi: .max, count: UInt32(count), digest: digest, prefixes: []), session: 2)
        #expect(mesh.nodes[Self.b].receive(twin, from: mesh.addresses[Self.a], now: mesh.now + 1).isEmpty)
        #expect(mesh.nodes[Self.b].counters["inventories_suppressed"] == 1)
        #expect(mesh.nodes[Self.b].timerFired(.repair, now: due).isEmpty, "the suppressed inventory is not sent")
    }

    @Test("an inventory leads to a want, addressed to its sender, for exactly what we lack")
    func inventoryAnswer() throws {
        var mesh = Self.harness(2)
        let x = Self.carried(1)
        _ = try mesh.nodes[Self.b].submit(x, now: mesh.now)
        let xid = EnvelopeID(ofEncoded: x.encoded())
        let unknown: UInt64 = 0x1234_5678
        let sender: UInt64 = 0xAAAA
        let inventory = MeshKey.publicDefault.seal(
            .inventory(lo: 0, hi: .max, count: 2, digest: .zero, prefixes: [xid.prefix, unknown].sorted()),
            session: sender)
        let actions = mesh.nodes[Self.b].receive(inventory, from: mesh.addresses[Self.a], now: mesh.now)
        #expect(!actions.contains { if case .multicast = $0 { true } else { false } }, "wants wait for their delay")
        let window = MeshNode.Settings().repairWindowMillis
        let fired = mesh.nodes[Self.b].timerFired(.repair, now: mesh.now + window)
        let packets = try Self.packetsToAll(fired)
        #expect(packets.contains(.want(target: sender, need: 1, prefixes: [unknown])))
        #expect(packets.filter { if case .want = $0 { true } else { false } }.count == 1)
        // The sender holds more than we do (2 > 1): we are the one missing things, so ours is not sent.
        #expect(!packets.contains { if case .inventory = $0 { true } else { false } })

        // A node holding less (and differently) started this round: ours goes out in the next one, when a
        // differing beacon comes after the repair interval.
        var other = Self.harness(2)
        _ = try other.nodes[Self.b].submit(x, now: other.now)
        let smaller = MeshKey.publicDefault.seal(
            .inventory(lo: 0, hi: .max, count: 1, digest: .zero, prefixes: [unknown]), session: sender)
        _ = other.nodes[Self.b].receive(smaller, from: other.addresses[Self.a], now: other.now)
        let fired2 = other.nodes[Self.b].timerFired(.repair, now: other.now + window)
        #expect(!(try Self.packetsToAll(fired2)).contains { if case .inventory = $0 { true } else { false } })
        let interval = MeshNode.Settings().repairIntervalMillis
        let beacon = MeshKey.publicDefault.seal(.beacon(count: 1, digest: .zero), session: sender)
        let next = other.nodes[Self.b].receive(beacon, from: other.addresses[Self.a], now: other.now + interval)
        guard case .scheduleTimer(.repair, let due) = next.last else {
            Issue.record("expected our inventory to be scheduled, got \(next)")
            return
        }
        let packets2 = try Self.packetsToAll(other.nodes[Self.b].timerFired(.repair, now: due))
        #expect(packets2.contains { if case .inventory = $0 { true } else { false } })
    }

    @Test("a want heard from another node suppresses ours when it lists what we lack and needs at least as much")
    func wantSuppression() throws {
        var mesh = Self.harness(2)
        let unknown: UInt64 = 0x99
        let inventory = MeshKey.publicDefault.seal(
            .inventory(lo: 0, hi: .max, count: 1, digest: .zero, prefixes: [unknown]), session: 0xAAAA)
        _ = mesh.nodes[Self.b].receive(inventory, from: mesh.addresses[Self.a], now: mesh.now)
        let other = MeshKey.publicDefault.seal(.want(target: 0xAAAA, need: 1, prefixes: [unknown]), session: 0xBBBB)
        _ = mesh.nodes[Self.b].receive(other, from: mesh.addresses[Self.a], now: mesh.now + 1)
        let fired = mesh.nodes[Self.b].timerFired(.repair, now: mesh.now + MeshNode.Settings().repairWindowMillis)
        let wants = try Self.packetsToAll(fired).filter { if case .want = $0 { true } else { false } }
        #expect(wants.isEmpty)
        #expect(mesh.nodes[Self.b].counters["wants_suppressed"] == 1)

        // We lack two; the want we heard lists one of them with a need of one: ours lists the other, need two.
        var next = Self.harness(2)
        let two = MeshKey.publicDefault.seal(
            .inventory(lo: 0, hi: .max, count: 2, digest: .zero, prefixes: [0x10, 0x20]), session: 0xAAAA)
        _ = next.nodes[Self.b].receive(two, from: next.addresses[Self.a], now: next.now)
        let partial = MeshKey.publicDefault.seal(.want(target: 0xAAAA, need: 1, prefixes: [0x10]), session: 0xBBBB)
        _ = next.nodes[Self.b].receive(partial, from: next.addresses[Self.a], now: next.now + 1)
        let sent = try Self.packetsToAll(
            next.nodes[Self.b].timerFired(.repair, now: next.now + MeshNode.Settings().repairWindowMillis))
        #expect(sent == [.want(target: 0xAAAA, need: 2, prefixes: [0x20])])
    }

    @Test("wants addressed to us are collected for a repair window, then answered by one burst for the largest need")
    func wantAnswer() throws {
        var mesh = Self.harness(2)
        let envelopes = (1...3).map { Self.carried($0) }
        for e in envelopes { try mesh.keep(e, at: Self.b) }
        let ids = envelopes.map { EnvelopeID(ofEncoded: $0.encoded()) }
        let me = mesh.nodes[Self.b].session
        let window = MeshNode.Settings().repairWindowMillis

        let first = MeshKey.publicDefault.seal(.want(target: me, need: 1, prefixes: [ids[0].prefix, 42]), session: 1)
        #expect(
            mesh.nodes[Self.b].receive(first, from: mesh.addresses[Self.a], now: mesh.now)
                == [.scheduleTimer(.repair, at: mesh.now + window)], "nothing is sent before the window ends")
        let second = MeshKey.publicDefault.seal(
            .want(target: me, need: 2, prefixes: [ids[1].prefix, ids[2].prefix]), session: 2)
        #expect(mesh.nodes[Self.b].receive(second, from: mesh.addresses[Self.a], now: mesh.now + 10).isEmpty)
        let fired = mesh.nodes[Self.b].timerFired(.repair, now: mesh.now + window, store: mesh.stores[Self.b])
        // Two losses per receiver (the largest need), three envelopes: two coded packets, each combining all three.
        let packets = try Self.packetsToAll(fired)
        #expect(fired.count == 2 && packets.count == 2)
        for p in packets {
            guard case .coded(let members, let coefficients, _) = p else {
                Issue.record("expected a coded packet, got \(p)")
                continue
            }
            #expect(members == ids.map(\.prefix).sorted())
            #expect(coefficients.count == 3 && !coefficients.contains(0))
        }
        // A need that covers the whole burst sends the envelopes themselves.
        let stored = ids.map { mesh.stores[Self.b][$0]! }
        var rng = SplitMix64(seed: 1)
        let whole = CodedRepair.packets(for: stored.map { (id: $0.id, bytes: $0.bytes) }, need: 3, rng: &rng)
        #expect(
            whole == stored.sorted { ($0.bytes.count, $0.id) < ($1.bytes.count, $1.id) }.map { .envelope($0.bytes) })

        // Addressed to another node (we sent no inventory), or for prefixes we do not hold: nothing.
        let elsewhere = MeshKey.publicDefault.seal(
            .want(target: me &+ 1, need: 1, prefixes: [ids[0].prefix]), session: 1)
        #expect(mesh.nodes[Self.b].receive(elsewhere, from: mesh.addresses[Self.a], now: mesh.now + 3 * window).isEmpty)
        let unknown = MeshKey.publicDefault.seal(.want(target: me, need: 1, prefixes: [42]), session: 1)
        #expect(mesh.nodes[Self.b].receive(unknown, from: mesh.addresses[Self.a], now: mesh.now + 3 * window).isEmpty)
    }

    @Test("nodes that each lack different envelopes are all repaired by one coded burst")
    func codedRepair() throws {
        var mesh = MeshHarness(identities: [Fixture.alice, Fixture.bob, Fixture.carol, Fixture.dave])
        var ids: [EnvelopeID] = []
        // Node 0 holds six envelopes; each of nodes 1, 2 and 3 was away for a different two.
        for (k, away) in [1, 1, 2, 2, 3, 3].enumerated() {
            mesh.absent = [away]
            let e = Self.carried(100 + k)
            try mesh.submit(e, at: 0)
            ids.append(EnvelopeID(ofEncoded: e.encoded()))
        }
        mesh.absent = []
        for n in 1...3 { #expect(mesh.nodes[n].envelopeCount == 4) }

        mesh.fireBeacons()
        for n in 1...3 {
            #expect(Set(mesh.storedIDs(n)) == Set(ids), "node \(n) holds all six")
            #expect(mesh.nodes[n].counters["envelopes_decoded"] == 2, "node \(n) solved its two from coded packets")
        }
        // Two coded packets did the work of six envelopes sent whole.
        #expect(mesh.nodes[0].counters["coded_sent"] == 2)
        #expect(mesh.nodes[0].counters["whole_repairs_sent"] == 0)
    }

    // MARK: - Validation

    @Test("an expired envelope is refused on submit and dropped on receipt")
    func expired() throws {
        var mesh = Self.harness(2)
        #expect(throws: MeshNode.SubmitError(reason: "expired")) {
            try mesh.nodes[Self.a].submit(Self.carried(1, expiresAt: Fixture.nowSeconds), now: mesh.now)
        }
        let shortLived = Self.carried(2, expiresAt: Fixture.nowSeconds + 10)
        let actions = try mesh.nodes[Self.a].submit(shortLived, now: mesh.now)
        mesh.now += 10_000
        #expect(Self.stores(mesh.deliver(Self.multicasts(actions)[0], from: Self.a, to: Self.b)).isEmpty)
        #expect(mesh.nodes[Self.b].counters["drop.expired"] == 1)
        #expect(mesh.nodes[Self.b].envelopeCount == 0)
    }

    @Test("an envelope asking to live longer than allowed is refused")
    func expiryTooFar() throws {
        var node = Self.harness(1).nodes[0]
        let limit = Fixture.nowSeconds + Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds
        #expect(throws: MeshNode.SubmitError(reason: "expiry_too_far")) {
            try node.submit(Self.carried(1, expiresAt: limit + 1), now: Fixture.now)
        }
        #expect(Self.stores(try node.submit(Self.carried(2, expiresAt: limit), now: Fixture.now)).count == 1)
        #expect(throws: MeshNode.SubmitError(reason: "duplicate")) {
            try node.submit(Self.carried(2, expiresAt: limit), now: Fixture.now)
        }
    }

    @Test("a forged direct message is never shown to its recipient; everyone carries it, so digests converge")
    func forgedDirectMessage() throws {
        var mesh = Self.harness()
        let forged = try DirectMessageTests.handBuilt(
            claiming: Fixture.alice.publicKey, boxedBy: Fixture.mallory, to: Fixture.bob)
        let datagram = MeshKey.publicDefault.seal(.envelope(forged.encoded()), session: 0xBAD)
        mesh.deliver(datagram, from: Self.a, to: Self.b)
        mesh.deliver(datagram, from: Self.a, to: Self.c)
        #expect(mesh.storeLog[Self.b].count == 1)
        #expect(mesh.storeLog[Self.b].first?.message == nil, "a forged message must not reach the inbox")
        #expect(mesh.nodes[Self.b].counters["drop.forged_sender"] == 1)
        #expect(mesh.nodes[Self.b].counters["messages_delivered"] == 0)
        #expect(mesh.storeLog[Self.c].count == 1)
        #expect(mesh.storeLog[Self.c].first?.message == nil)
        #expect(mesh.nodes[Self.b].storeDigest.digest == mesh.nodes[Self.c].storeDigest.digest)
        // Delivered again (a beacon round's push), it is a duplicate, not a second rejection.
        mesh.deliver(datagram, from: Self.c, to: Self.b)
        #expect(mesh.nodes[Self.b].counters["drop.forged_sender"] == 1)
        #expect(mesh.nodes[Self.b].counters["envelopes_duplicate"] == 1)
    }

    @Test("a direct message whose outer expiry was stretched is dropped by its recipient")
    func stretchedExpiry() throws {
        var mesh = Self.harness(2)
        var envelope = try Self.dm("short-lived", to: Fixture.bob)
        envelope.expiresAt += 3_600
        mesh.deliver(MeshKey.publicDefault.seal(.envelope(envelope.encoded()), session: 1), from: Self.a, to: Self.b)
        #expect(mesh.storeLog[Self.b].allSatisfy { $0.message == nil }, "a stretched message must not be shown")
        #expect(mesh.nodes[Self.b].counters["drop.expiry_mismatch"] == 1)
    }

    @Test("a packet from the node's own session is ignored")
    func ownSession() throws {
        var mesh = Self.harness(2)
        let own = mesh.nodes[Self.b].session
        let envelope = Self.carried(1).encoded()
        let mine = MeshKey.publicDefault.seal(.envelope(envelope), session: own)
        #expect(mesh.deliver(mine, from: Self.a, to: Self.b).isEmpty)
        #expect(mesh.nodes[Self.b].counters["own_packets"] == 1)
        #expect(mesh.nodes[Self.b].envelopeCount == 0)
        #expect(mesh.nodes[Self.b].peerList.isEmpty)
        // Control: the same envelope from another session is stored.
        let theirs = MeshKey.publicDefault.seal(.envelope(envelope), session: own + 1)
        #expect(Self.stores(mesh.deliver(theirs, from: Self.a, to: Self.b)).count == 1)
    }

    @Test("drops are counted by reason")
    func dropCounters() throws {
        var mesh = Self.harness(2)
        let key = MeshKey.publicDefault
        var wrongMagic = key.seal(.want(target: 7, need: 1, prefixes: []), session: 1)
        wrongMagic[0] = 0x58
        var wrongVersion = key.seal(.want(target: 7, need: 1, prefixes: []), session: 1)
        wrongVersion[2] = 9
        let inputs: [[UInt8]] = [
            Fixture.otherMeshKey.seal(.want(target: 7, need: 1, prefixes: [1]), session: 1),
            flippingBit(100, of: key.seal(.want(target: 7, need: 1, prefixes: [1]), session: 1)),
            wrongMagic,
            wrongVersion,
            [UInt8](repeating: 0, count: 10),
            [UInt8](repeating: 0, count: 1_300),
            key.seal(.inventory(lo: 5, hi: 6, count: 3, digest: .zero, prefixes: [7]), session: 1),
            key.seal(.envelope([1, 9]), session: 1),
            key.sealRaw([8] + be(UInt64(1))),
        ]
        for datagram in inputs {
            #expect(mesh.deliver(datagram, from: Self.a, to: Self.b).isEmpty)
        }
        #expect(
            mesh.nodes[Self.b].counters.values == [
                "packets_in": Int64(inputs.count),
                "drop.bad_mac": 2,
                "drop.bad_magic": 1,
                "drop.unknown_version": 1,
                "drop.truncated": 1,
                "drop.oversized": 1,
                "drop.invalid": 1,
                "drop.unknown_kind": 1,
                "drop.unknown_packet_type": 1,
            ])
        #expect(mesh.nodes[Self.b].envelopeCount == 0)
    }

    // MARK: - Timers and bookkeeping

    @Test("start opens a minimum Trickle interval (beacon in its second half) and schedules the first sweep")
    func start() {
        var node = Self.harness(1).nodes[0]
        let actions = node.start(now: Fixture.now)
        let settings = MeshNode.Settings()
        #expect(actions.count == 3)
        guard case .scheduleTimer(.beacon, let at) = actions.first else {
            Issue.record("expected a beacon timer first, got \(actions)")
            return
        }
        let interval = settings.beaconIntervalMillis
        #expect(((Fixture.now + interval / 2)..<(Fixture.now + interval)).contains(at))
        #expect(actions.contains(.scheduleTimer(.interval, at: Fixture.now + interval)))
        #expect(actions.last == .scheduleTimer(.sweep, at: Fixture.now + settings.sweepIntervalMillis))
    }

    @Test("the beacon timer multicasts the store's count and digest unless enough agreeing beacons were heard")
    func beaconTimer() throws {
        var node = Self.harness(1).nodes[0]
        let ids = try (1...3).map { n -> EnvelopeID in
            let e = Self.carried(n)
            _ = try node.submit(e, now: Fixture.now)
            return EnvelopeID(ofEncoded: e.encoded())
        }
        let digest = ids.reduce(EnvelopeID.zero, ^)
        #expect(node.storeDigest == (3, digest))
        _ = node.start(now: Fixture.now)
        let actions = node.timerFired(.beacon, now: Fixture.now + 600)
        #expect(actions.count == 1)
        guard case .multicast(let datagram, nil) = actions.first else {
            Issue.record("unexpected beacon actions \(actions)")
            return
        }
        let (session, packet) = try MeshKey.publicDefault.open(datagram)
        #expect(session == node.session)
        #expect(packet == .beacon(count: 3, digest: MeshNode.beaconDigest(digest, session: node.session)))

        // Two agreeing beacons heard in an interval: this node stays quiet (Trickle's k = 2).
        let agreeing = MeshKey.publicDefault.seal(
            .beacon(count: 3, digest: MeshNode.beaconDigest(digest, session: 9)), session: 9)
        let peer = PeerAddress(host: "p", port: 1, interface: 0)
        _ = node.timerFired(.interval, now: Fixture.now + 1_000)
        _ = node.receive(agreeing, from: peer, now: Fixture.now + 1_001)
        _ = node.receive(agreeing, from: peer, now: Fixture.now + 1_002)
        #expect(node.timerFired(.beacon, now: Fixture.now + 2_500).isEmpty)
        #expect(node.counters["beacons_suppressed"] == 1)
    }

    @Test("Trickle: the interval doubles up to its maximum while the mesh agrees and resets on disagreement")
    func trickleInterval() throws {
        var node = Self.harness(1).nodes[0]
        let settings = MeshNode.Settings()
        func intervalEnd(_ actions: [MeshNode.Action]) -> Millis? {
            for case .scheduleTimer(.interval, let at) in actions { return at }
            return nil
        }
        func beaconAt(_ actions: [MeshNode.Action]) -> Millis? {
            for case .scheduleTimer(.beacon, let at) in actions { return at }
            return nil
        }
        var now = Fixture.now
        var actions = node.start(now: now)
        var expected = settings.beaconIntervalMillis
        for _ in 0..<(settings.beaconDoublings + 3) {
            let end = try #require(intervalEnd(actions))
            let beacon = try #require(beaconAt(actions))
            #expect(end - now == expected)
            #expect(((now + expected / 2)..<(now + expected)).contains(beacon), "beacon in the second half")
            now = end
            actions = node.timerFired(.interval, now: now)
            expected = min(expected * 2, settings.maxIntervalMillis)
        }
        #expect(expected == settings.maxIntervalMillis)
        // A disagreeing beacon starts a minimum interval at once.
        let differing = MeshKey.publicDefault.seal(.beacon(count: 5, digest: .zero), session: 9)
        let reset = node.receive(differing, from: PeerAddress(host: "p", port: 1, interface: 0), now: now + 10)
        #expect(intervalEnd(reset) == now + 10 + settings.beaconIntervalMillis)
    }

    @Test("the sweep timer forgets expired IDs and asks the shell to delete them")
    func sweep() throws {
        var mesh = Self.harness(2)
        let expiresAt = Fixture.nowSeconds + 10
        let short = Self.carried(1, expiresAt: expiresAt)
        let long = Self.carried(2)
        try mesh.submit(short, at: Self.a)
        try mesh.submit(long, at: Self.a)
        let shortID = EnvelopeID(ofEncoded: short.encoded())
        let longID = EnvelopeID(ofEncoded: long.encoded())
        let sweepInterval = MeshNode.Settings().sweepIntervalMillis

        let early = Fixture.now + 9_999
        let first = mesh.nodes[Self.b].timerFired(.sweep, now: early)
        #expect(first == [.deleteExpired(upTo: expiresAt - 1), .scheduleTimer(.sweep, at: early + sweepInterval)])
        #expect(mesh.nodes[Self.b].holds(shortID))

        let due = Fixture.now + 10_000
        let second = mesh.nodes[Self.b].timerFired(.sweep, now: due)
        #expect(second == [.deleteExpired(upTo: expiresAt), .scheduleTimer(.sweep, at: due + sweepInterval)])
        mesh.execute(second, at: Self.b)
        #expect(!mesh.nodes[Self.b].holds(shortID))
        #expect(mesh.nodes[Self.b].holds(longID))
        #expect(mesh.nodes[Self.b].storeDigest == (1, longID))
        #expect(mesh.nodes[Self.b].counters["envelopes_expired"] == 1)
        #expect(Array(mesh.stores[Self.b].keys) == [longID])
    }

    @Test("a store failure lets the envelope arrive again")
    func storeFailed() throws {
        var mesh = Self.harness(2)
        let actions = try mesh.nodes[Self.a].submit(Self.carried(1), now: mesh.now)
        let datagram = Self.multicasts(actions)[0]
        let stored = Self.stores(mesh.deliver(datagram, from: Self.a, to: Self.b))
        #expect(stored.count == 1)
        mesh.nodes[Self.b].storeFailed(stored[0].envelope.id)
        #expect(!mesh.nodes[Self.b].holds(stored[0].envelope.id))
        #expect(mesh.nodes[Self.b].storeDigest == (0, .zero))
        #expect(Self.stores(mesh.deliver(datagram, from: Self.a, to: Self.b)).count == 1)
        #expect(mesh.nodes[Self.b].counters["store_failures"] == 1)
    }

    @Test("loading the store indexes unexpired IDs only, and they count as duplicates")
    func load() throws {
        var mesh = Self.harness(2)
        let live = Self.carried(1)
        let liveID = EnvelopeID(ofEncoded: live.encoded())
        let deadID = EnvelopeID(ofEncoded: Self.carried(2).encoded())
        mesh.nodes[Self.b].load([(liveID, Fixture.expiry), (deadID, Fixture.nowSeconds)], now: mesh.now)
        #expect(mesh.nodes[Self.b].envelopeCount == 1)
        #expect(mesh.nodes[Self.b].holds(liveID))
        #expect(!mesh.nodes[Self.b].holds(deadID))
        let datagram = MeshKey.publicDefault.seal(.envelope(live.encoded()), session: 1)
        #expect(mesh.deliver(datagram, from: Self.a, to: Self.b).isEmpty)
        #expect(mesh.nodes[Self.b].counters["envelopes_duplicate"] == 1)
    }

    @Test("peers are learned from their packets and forgotten after the peer timeout")
    func peers() throws {
        var mesh = Self.harness(2)
        let beacon = MeshKey.publicDefault.seal(.beacon(count: 0, digest: .zero), session: 0xAB)
        mesh.deliver(beacon, from: Self.a, to: Self.b)
        #expect(
            mesh.nodes[Self.b].peerList
                == [MeshNode.PeerInfo(session: 0xAB, address: mesh.addresses[Self.a], lastSeen: mesh.now)])
        let timeout = MeshNode.Settings().peerTimeoutMillis
        _ = mesh.nodes[Self.b].timerFired(.interval, now: mesh.now + timeout - 1)
        #expect(mesh.nodes[Self.b].peerList.count == 1)
        _ = mesh.nodes[Self.b].timerFired(.interval, now: mesh.now + timeout)
        #expect(mesh.nodes[Self.b].peerList.isEmpty)
    }

    @Test("an incomplete fragment stream times out at the end of a Trickle interval and is counted")
    func reassemblyTimeout() throws {
        var mesh = Self.harness(2)
        let fragment = MeshKey.publicDefault.seal(.fragment(stream: 1, offset: 0, total: 5_000, chunk: [1]), session: 1)
        #expect(mesh.deliver(fragment, from: Self.a, to: Self.b).isEmpty)
        #expect(mesh.nodes[Self.b].reassemblyBytesHeld == 1, "charged what arrived, not the total declared")
        let timeout = MeshNode.Settings().reassembly.timeoutMillis
        _ = mesh.nodes[Self.b].timerFired(.interval, now: mesh.now + timeout)
        #expect(mesh.nodes[Self.b].reassemblyBytesHeld == 0)
        #expect(mesh.nodes[Self.b].counters["drop.reassembly_timeout"] == 1)
    }

    @Test("a reassembled envelope whose ID does not match its stream is dropped")
    func fragmentMismatch() throws {
        var mesh = Self.harness(2)
        let bytes = Self.carried(1).encoded()
        let half = bytes.count / 2
        for (offset, chunk) in [(0, Array(bytes[..<half])), (half, Array(bytes[half...]))] {
            let datagram = MeshKey.publicDefault.seal(
                .fragment(stream: 0xBAD, offset: UInt32(offset), total: UInt32(bytes.count), chunk: chunk), session: 1)
            #expect(mesh.deliver(datagram, from: Self.a, to: Self.b).isEmpty)
        }
        #expect(mesh.nodes[Self.b].counters["drop.fragment_mismatch"] == 1)
        #expect(mesh.nodes[Self.b].envelopeCount == 0)
    }
}
