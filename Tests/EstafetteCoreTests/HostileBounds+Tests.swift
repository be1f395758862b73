import Testing

@testable import EstafetteCore

/// Bounds a forger on the LAN cannot push past (issue 9, properties 5, 6, 7): answers per source, the peer table,
/// and the work one source's coded packets cost.
@Suite("Hostile bounds")
struct HostileBoundsTests {
    typealias H = HostileControlTests

    static func multicastBytes(_ actions: [MeshNode.Action]) -> Int {
        MeshNodeTests.multicasts(actions).reduce(0) { $0 + $1.count }
    }

    /// A node holding `count` random envelope IDs (loaded, as from its database).
    static func nodeHolding(_ count: Int, rng: inout SplitMix64) -> MeshNode {
        var node = MeshNode(identity: Fixture.bob, meshKey: .publicDefault, session: 1, seed: 1)
        for _ in 0..<count {
            let id = EnvelopeID(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            node.load(id, expiresAt: Fixture.expiry, now: Fixture.now)
        }
        return node
    }

    /// A forger's disagreeing beacon (count 0, fresh session) once a second for 12 s, the node's repair timer
    /// fired every 100 ms: the bytes asked and the bytes multicast in answer.
    static func forgedBeacons(
        to node: inout MeshNode, from attacker: PeerAddress, rng: inout SplitMix64, now: inout Millis
    ) -> (asked: Int, answered: Int) {
        let store: [EnvelopeID: StoredEnvelope] = [:]
        var asked = 0
        var answered = 0
        for _ in 0..<12 {
            let beacon = H.seal(.beacon(count: 0, digest: .zero), session: rng.next())
            asked += beacon.count
            answered += multicastBytes(node.receive(beacon, from: attacker, now: now, store: store))
            for _ in 0..<10 {
                now += 100
                answered += multicastBytes(node.timerFired(.repair, now: now, store: store))
            }
        }
        return (asked, answered)
    }

    @Test("wants asking for everything, twice a second for 10 s, are answered with at most 10× their bytes")
    func wantsAmplification() throws {
        var node = MeshNode(identity: Fixture.bob, meshKey: .publicDefault, session: 1, seed: 1)
        var store: [EnvelopeID: StoredEnvelope] = [:]
        for k in 0..<150 {
            let s = try node.submit(H.filler(k, size: 900), now: Fixture.now)
            store[s.envelope.id] = s.envelope
        }
        let prefixes = store.keys.map(\.prefix).sorted()
        let attacker = PeerAddress(host: "10.0.0.66", port: 1, interface: 0)
        var asked = 0
        var answered = 0
        var now = Fixture.now
        for i in 0..<20 {
            let chunk = (0..<136).map { prefixes[(i * 136 + $0) % prefixes.count] }
            let want = H.seal(.want(target: 1, need: 65_535, prefixes: Array(Set(chunk)).sorted()), session: 77)
            asked += want.count
            answered += Self.multicastBytes(node.receive(want, from: attacker, now: now, store: store))
            now += 250
            answered += Self.multicastBytes(node.timerFired(.repair, now: now, store: store))
            now += 250
            answered += Self.multicastBytes(node.timerFired(.repair, now: now, store: store))
        }
        #expect(answered > 0, "wants are still answered")
        #expect(Double(answered) <= 10 * Double(asked), "asked \(asked) B, answered \(answered) B")
        #expect(node.counters["drop.answer_unpaid"] + node.counters["answers_put_off"] > 0)
    }

    @Test("disagreeing beacons to a node holding 5,000 envelopes are answered with at most 10× their bytes")
    func inventoryAmplification() {
        var rng = SplitMix64(seed: 5)
        var node = Self.nodeHolding(5_000, rng: &rng)
        let attacker = PeerAddress(host: "10.0.0.66", port: 1, interface: 0)
        var now = Fixture.now
        let (asked, answered) = Self.forgedBeacons(to: &node, from: attacker, rng: &rng, now: &now)
        #expect(answered > 0)
        #expect(Double(answered) <= 10 * Double(asked), "asked \(asked) B, answered \(answered) B")
    }

    @Test(
        "a request another node's identical inventory answered does not let a forger's later round spend the honest peer's credit"
    )
    func staleRequesterDoesNotPay() {
        var rng = SplitMix64(seed: 9)
        var node = Self.nodeHolding(5_000, rng: &rng)
        let store: [EnvelopeID: StoredEnvelope] = [:]
        let honest = PeerAddress(host: "10.0.0.2", port: 4545, interface: 0)
        let twin = PeerAddress(host: "10.0.0.3", port: 4545, interface: 0)
        let attacker = PeerAddress(host: "10.0.0.66", port: 1, interface: 0)
        var now = Fixture.now
        // The honest peer lacked something for a moment: its beacon made our inventory due...
        _ = node.receive(H.seal(.beacon(count: 0, digest: .zero), session: 42), from: honest, now: now, store: store)
        now += 10
        // ...and a node holding exactly what we hold published its inventory first.
        let prefixes = Array(node.sortedPrefixes().prefix(Packet.maxPrefixesPerPacket))
        let page = Packet.inventory(
            lo: 0, hi: prefixes.last!, count: UInt32(node.envelopeCount), digest: node.digest, prefixes: prefixes)
        _ = node.receive(H.seal(page, session: 43), from: twin, now: now, store: store)
        #expect(node.counters["inventories_suppressed"] == 1)
        // The honest peer then agrees, four beacons a second for 20 s: credit it could spend if it asked.
        for _ in 0..<80 {
            now += 250
            let agree = Packet.beacon(
                count: MeshNode.beaconCount(node.envelopeCount), digest: MeshNode.beaconDigest(node.digest, session: 42))
            _ = node.receive(H.seal(agree, session: 42), from: honest, now: now, store: store)
            _ = node.timerFired(.repair, now: now, store: store)
        }
        // A forger asks once a second for 12 s: the rounds it provokes are paid by it alone.
        let (asked, answered) = Self.forgedBeacons(to: &node, from: attacker, rng: &rng, now: &now)
        #expect(answered > 0)
        #expect(Double(answered) <= 10 * Double(asked), "asked \(asked) B, answered \(answered) B")
    }

    @Test("50,000 beacons with fresh sessions leave the peer table bounded, and the honest peers in it")
    func peerTableBounded() {
        var node = MeshNode(identity: Fixture.bob, meshKey: .publicDefault, session: 1, seed: 1)
        let store: [EnvelopeID: StoredEnvelope] = [:]
        let honest = PeerAddress(host: "10.0.0.2", port: 4545, interface: 0)
        let hello = H.seal(.beacon(count: 0, digest: .zero), session: 42)
        _ = node.receive(hello, from: honest, now: Fixture.now, store: store)
        var rng = SplitMix64(seed: 3)
        for i in 0..<50_000 {
            // One host, then many hosts (addresses on the subnet).
            let host = i < 25_000 ? "10.0.0.66" : "10.0.\(1 + (i % 200)).\(i % 250)"
            let from = PeerAddress(host: host, port: 1, interface: 0)
            let beacon = H.seal(.beacon(count: 0, digest: .zero), session: rng.next())
            _ = node.receive(beacon, from: from, now: Fixture.now + Millis(i / 5), store: store)
        }
        let settings = MeshNode.Settings()
        #expect(node.stateSize.peers <= settings.maxPeers)
        #expect(node.peerList.contains { $0.session == 42 }, "the honest peer stays")
        #expect(node.peerList.filter { $0.address.host == "10.0.0.66" }.count <= settings.maxPeersPerSource)
        #expect(node.counters["drop.peer_table_full"] > 0)
    }

    @Test("a junk coded packet costs only its source's decoder; honest coded repair still solves")
    func codedJunkIsolated() throws {
        var (mesh, ids) = try H.awayMesh(missed: 5)
        try mesh.keep(H.filler(0), at: H.b)  // B lacks four of the five
        let xs = mesh.addresses[H.x]
        let prefixes = ids.map(\.prefix).sorted()
        // Junk over A's envelopes (which B lacks), from X: it fills X's decoder at B, not A's.
        var rng = SplitMix64(seed: 8)
        for _ in 0..<3 {
            let junk = H.seal(
                .coded(
                    members: prefixes, coefficients: prefixes.map { _ in UInt8(1 + rng.next() % 255) },
                    payload: (0..<400).map { _ in UInt8(truncatingIfNeeded: rng.next()) }), session: rng.next())
            _ = mesh.nodes[H.b].receive(junk, from: xs, now: mesh.now, store: mesh.stores[H.b])
        }
        #expect(mesh.nodes[H.b].repair.decoders[xs.source] != nil)
        // A's honest burst, four combinations of the five: B solves its four from A's rows alone.
        var burstRNG = SplitMix64(seed: 9)
        let envelopes = ids.map { (id: $0, bytes: mesh.stores[H.a][$0]!.bytes) }.sorted { $0.id < $1.id }
        let packets = CodedRepair.packets(for: envelopes, need: 4, rng: &burstRNG)
        #expect(packets.count == 4 && packets.allSatisfy { if case .coded = $0 { true } else { false } })
        for p in packets {
            mesh.deliver(H.seal(p, session: mesh.nodes[H.a].session), from: H.a, to: H.b)
        }
        #expect(ids.allSatisfy { mesh.nodes[H.b].holds($0) })
        #expect(mesh.nodes[H.b].counters["envelopes_decoded"] == 4)
    }

    @Test("a coded packet over envelopes the node holds must cancel out; junk distrusts its source")
    func heldCodedChecked() throws {
        var (mesh, ids) = try H.awayMesh(missed: 2)
        let xs = mesh.addresses[H.x]
        let prefixes = ids.map(\.prefix).sorted()
        let junk = H.seal(
            .coded(members: prefixes, coefficients: [3, 5], payload: [UInt8](repeating: 9, count: 400)), session: 5)
        // Only checked when it would take something out of a pending burst: queue one at A.
        let want = H.seal(.want(target: mesh.nodes[H.a].session, need: 2, prefixes: prefixes), session: 6)
        _ = mesh.nodes[H.a].receive(want, from: mesh.addresses[H.b], now: mesh.now, store: mesh.stores[H.a])
        #expect(mesh.nodes[H.a].repair.burst?.ids.count == 2)
        _ = mesh.nodes[H.a].receive(junk, from: xs, now: mesh.now, store: mesh.stores[H.a])
        #expect(mesh.nodes[H.a].counters["drop.coded_mismatch"] == 1)
        #expect(mesh.nodes[H.a].repair.burst?.ids.count == 2, "junk does not suppress our burst")
        #expect(!mesh.nodes[H.a].believes(xs.source, now: mesh.now))
        _ = mesh.nodes[H.a].receive(junk, from: xs, now: mesh.now, store: mesh.stores[H.a])
        #expect(mesh.nodes[H.a].counters["drop.coded_distrusted"] == 1)
    }

    @Test("one source's coded packets cost bounded work: junk is found out, and beyond its budget refused unread")
    func codedBudget() throws {
        var (mesh, ids) = try H.awayMesh(missed: 31)
        let prefixes = ids.map(\.prefix).sorted()
        var rng = SplitMix64(seed: 4)
        // Held members plus one unknown: each would make A load 31 envelopes from its store. The first one that
        // solves shows it is junk; the rest are refused unread.
        let xs = mesh.addresses[H.x]
        for _ in 0..<1_000 {
            let members = (prefixes + [rng.next()]).sorted()
            let p = H.seal(
                .coded(
                    members: members, coefficients: [UInt8](repeating: 1, count: members.count),
                    payload: (0..<400).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
                session: rng.next())
            _ = mesh.nodes[H.a].receive(p, from: xs, now: mesh.now, store: mesh.stores[H.a])
        }
        #expect(mesh.nodes[H.a].counters["drop.coded_distrusted"] >= 990, "\(mesh.nodes[H.a].counters.values)")
        // Junk that never solves (32 unknowns each) from another address: its budget runs out.
        let ys = PeerAddress(host: "192.168.1.99", port: 1, interface: 0)
        for _ in 0..<1_000 {
            let members = (0..<32).map { _ in rng.next() }.sorted()
            let p = H.seal(
                .coded(
                    members: members, coefficients: [UInt8](repeating: 1, count: 32),
                    payload: [UInt8](repeating: 1, count: 400)),
                session: rng.next())
            _ = mesh.nodes[H.a].receive(p, from: ys, now: mesh.now, store: mesh.stores[H.a])
        }
        #expect(mesh.nodes[H.a].counters["drop.coded_budget"] > 800, "\(mesh.nodes[H.a].counters.values)")
        #expect(mesh.nodes[H.a].stateSize.pendingRepairs <= 2 * 64, "its own decoder and the shared one")
    }
}
