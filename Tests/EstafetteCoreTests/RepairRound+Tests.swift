import Testing

@testable import EstafetteCore

/// One repair round, step by step: which node answers the wants, and what it leaves out. See docs/protocol.md
/// ("Repair rounds").
@Suite("Repair rounds")
struct RepairRoundTests {
    static let a = 0
    static let b = 1
    static let window = MeshNode.Settings().repairWindowMillis

    static func seal(_ packet: Packet, from session: UInt64) -> [UInt8] {
        MeshKey.publicDefault.seal(packet, session: session)
    }

    static func repairTimer(_ actions: [MeshNode.Action]) -> Millis? {
        for case .scheduleTimer(.repair, let at) in actions { return at }
        return nil
    }

    /// The packets of the repair burst in `actions` (whole envelopes, coded combinations, fragments, parities).
    static func burst(_ actions: [MeshNode.Action]) throws -> [Packet] {
        try MeshNodeTests.packetsToAll(actions).filter {
            switch $0 {
            case .envelope, .coded, .fragment, .parity: true
            case .beacon, .inventory, .want, .summary: false
            }
        }
    }

    /// The envelopes a burst in `actions` sends whole.
    static func wholeIDs(_ actions: [MeshNode.Action]) throws -> [EnvelopeID] {
        try burst(actions).compactMap {
            if case .envelope(let bytes) = $0 { EnvelopeID(ofEncoded: bytes) } else { nil }
        }
    }

    /// A two-node mesh where node B holds `count` envelopes node A lacks, and has just sent its inventory in
    /// answer to A's empty beacon. Returns the envelopes' IDs and when the inventory went.
    static func inventorySent(count: Int = 3) throws -> (mesh: MeshHarness, ids: [EnvelopeID], at: Millis) {
        var mesh = MeshNodeTests.harness(2)
        var ids: [EnvelopeID] = []
        for k in 0..<count {
            let e = MeshNodeTests.carried(k)
            try mesh.keep(e, at: b)
            ids.append(EnvelopeID(ofEncoded: e.encoded()))
        }
        let empty = seal(.beacon(count: 0, digest: .zero), from: mesh.nodes[a].session)
        let due = try #require(repairTimer(mesh.nodes[b].receive(empty, from: mesh.addresses[a], now: mesh.now)))
        let sent = try MeshNodeTests.packetsToAll(mesh.nodes[b].timerFired(.repair, now: due))
        #expect(sent.count == 1 && sent.allSatisfy { if case .inventory = $0 { true } else { false } })
        return (mesh, ids.sorted(), due)
    }

    /// A want addressed to node B, delivered at `now`; returns it (to deliver again) and when B's burst is due.
    static func askB(
        _ mesh: inout MeshHarness, for prefixes: [UInt64], need: UInt16 = 1, now: Millis
    ) throws -> (want: [UInt8], due: Millis) {
        let want = seal(.want(target: mesh.nodes[b].session, need: need, prefixes: prefixes), from: 7)
        let due = try #require(repairTimer(mesh.nodes[b].receive(want, from: mesh.addresses[a], now: now)))
        return (want, due)
    }

    @Test("an inventory sender answers wants addressed to another sender of its round, not of a later round")
    func roundPeers() throws {
        var (mesh, ids, at) = try Self.inventorySent()
        let peer: UInt64 = 0xAAAA
        let late: UInt64 = 0xBBBB
        // A node holding less sent its inventory in the same round (within a repair window of ours) …
        _ = mesh.nodes[Self.b].receive(
            Self.seal(.inventory(lo: 0, hi: .max, count: 1, digest: .zero, prefixes: [ids[0].prefix]), from: peer),
            from: mesh.addresses[Self.a], now: at + 50)
        // … and one sent its inventory well after ours: a round of its own.
        _ = mesh.nodes[Self.b].receive(
            Self.seal(.inventory(lo: 0, hi: .max, count: 1, digest: .zero, prefixes: [ids[1].prefix]), from: late),
            from: mesh.addresses[Self.a], now: at + Self.window + 100)

        let toLate = Self.seal(.want(target: late, need: 1, prefixes: [ids[1].prefix]), from: 7)
        let ignored = mesh.nodes[Self.b].receive(toLate, from: mesh.addresses[Self.a], now: at + Self.window + 150)
        #expect(Self.repairTimer(ignored) == nil, "the later round's sender answers its own wants")
        let toPeer = Self.seal(.want(target: peer, need: 1, prefixes: [ids[0].prefix]), from: 8)
        let collected = mesh.nodes[Self.b].receive(toPeer, from: mesh.addresses[Self.a], now: at + Self.window + 200)
        let due = try #require(Self.repairTimer(collected), "we hold more than the peer: we answer its wants")
        let fired = mesh.nodes[Self.b].timerFired(.repair, now: due, store: mesh.stores[Self.b])
        #expect(try Self.wholeIDs(fired) == [ids[0]])
    }

    @Test("of a round's inventory senders, the one holding less leaves the burst to the one holding more")
    func deferToBest() throws {
        var (mesh, ids, at) = try Self.inventorySent()
        let (_, due) = try Self.askB(&mesh, for: [ids[2].prefix], now: at + 100)
        let better = Self.seal(.inventory(lo: 0, hi: .max, count: 10, digest: .zero, prefixes: []), from: 0xCCCC)
        _ = mesh.nodes[Self.b].receive(better, from: mesh.addresses[Self.a], now: at + 120)
        #expect(try Self.burst(mesh.nodes[Self.b].timerFired(.repair, now: due, store: mesh.stores[Self.b])).isEmpty)
        #expect(mesh.nodes[Self.b].counters["bursts_deferred"] == 1)
    }

    @Test("a want heard means a round is in progress: our pending inventory is dropped, and no new one follows soon")
    func wantCancelsInventory() throws {
        var mesh = MeshNodeTests.harness(2)
        _ = try mesh.nodes[Self.b].submit(MeshNodeTests.carried(1), now: mesh.now)
        let empty = Self.seal(.beacon(count: 0, digest: .zero), from: mesh.nodes[Self.a].session)
        let due = try #require(
            Self.repairTimer(mesh.nodes[Self.b].receive(empty, from: mesh.addresses[Self.a], now: mesh.now)))
        // Some other node's inventory started a round we did not hear; we hear one of its wants.
        let want = Self.seal(.want(target: 0xDDDD, need: 1, prefixes: [0x42]), from: 9)
        _ = mesh.nodes[Self.b].receive(want, from: mesh.addresses[Self.a], now: mesh.now + 1)
        #expect(mesh.nodes[Self.b].timerFired(.repair, now: due).isEmpty, "no second round")
        #expect(mesh.nodes[Self.b].counters["inventories_deferred"] == 1)
        let again = mesh.nodes[Self.b].receive(empty, from: mesh.addresses[Self.a], now: due + 10)
        #expect(Self.repairTimer(again) == nil)
        let interval = MeshNode.Settings().repairIntervalMillis
        let later = mesh.nodes[Self.b].receive(empty, from: mesh.addresses[Self.a], now: mesh.now + 1 + interval)
        #expect(Self.repairTimer(later) != nil, "the next round comes a repair interval after the want")
    }

    @Test("a want that crossed our burst is not answered again; one a repair window later is")
    func crossedWant() throws {
        var (mesh, ids, at) = try Self.inventorySent()
        let (want, due) = try Self.askB(&mesh, for: [ids[0].prefix], now: at + 10)
        #expect(
            try Self.wholeIDs(mesh.nodes[Self.b].timerFired(.repair, now: due, store: mesh.stores[Self.b])) == [ids[0]])

        let crossed = mesh.nodes[Self.b].receive(want, from: mesh.addresses[Self.a], now: due + 5)
        #expect(Self.repairTimer(crossed) == nil)
        #expect(mesh.nodes[Self.b].counters["wants_crossed_burst"] == 1)
        let asked = mesh.nodes[Self.b].receive(want, from: mesh.addresses[Self.a], now: due + Self.window)
        #expect(Self.repairTimer(asked) != nil)
    }

    @Test("a fragment of an envelope we hold, from another node's repair, takes it out of our pending burst")
    func fragmentsHeard() throws {
        var (mesh, ids, at) = try Self.inventorySent(count: 1)
        // B also holds an envelope too long for one datagram.
        let long = Envelope(kind: .channel, expiresAt: Fixture.expiry, body: [UInt8](repeating: 7, count: 3_000))
        let longBytes = long.encoded()
        let longID = EnvelopeID(ofEncoded: longBytes)
        mesh.now = at
        try mesh.keep(long, at: Self.b)
        let (_, due) = try Self.askB(&mesh, for: [ids[0].prefix, longID.prefix], need: 2, now: at + 10)

        // Node A repairs the long one first: one of its fragments reaches B.
        let fragments = mesh.nodes[Self.a].datagrams(forEncoded: longBytes, id: longID)
        #expect(fragments.count > 2)
        // (B checks the piece against the envelope in its store: a forged one would not take it out.)
        _ = mesh.nodes[Self.b].receive(
            fragments[1], from: mesh.addresses[Self.a], now: at + 20, store: mesh.stores[Self.b])
        #expect(mesh.nodes[Self.b].counters["repairs_suppressed"] == 1)
        #expect(
            try Self.burst(mesh.nodes[Self.b].timerFired(.repair, now: due, store: mesh.stores[Self.b])) == [
                .envelope(try #require(mesh.stores[Self.b][ids[0]]).bytes)
            ])
    }

    @Test("a node holding a partial of a long envelope sent recently is repaired by a few parities, not all of it")
    func longEnvelopeByParities() throws {
        var mesh = MeshNodeTests.harness(2)
        let long = Envelope(kind: .channel, expiresAt: Fixture.expiry, body: [UInt8](repeating: 3, count: 3_000))
        let id = EnvelopeID(ofEncoded: long.encoded())
        mesh.absent = [Self.b]
        let sent = MeshNodeTests.multicasts(try mesh.submit(long, at: Self.a))
        mesh.absent = []
        #expect(sent.count == 4, "three fragments and parity 0")
        // B heard only the first fragment.
        mesh.deliver(sent[0], from: Self.a, to: Self.b)
        let before = mesh.delivered.count

        mesh.fireBeacons()
        #expect(mesh.nodes[Self.b].holds(id))
        let repair = try mesh.delivered[before...].filter { $0.from == Self.a }.map {
            try MeshNodeTests.open($0.datagram)
        }
        let pieces = repair.filter {
            switch $0 {
            case .fragment, .parity: true
            default: false
            }
        }
        #expect(pieces.count == 2, "two parities for its two missing fragments: \(pieces.count) pieces")
        #expect(pieces.allSatisfy { if case .parity(_, _, let j, _) = $0 { j != 0 } else { false } })
    }

    @Test("a long envelope received long ago is repaired whole: the node lacking it holds no partial any more")
    func longEnvelopeWhole() throws {
        var (mesh, _, at) = try Self.inventorySent(count: 1)
        let long = Envelope(kind: .channel, expiresAt: Fixture.expiry, body: [UInt8](repeating: 5, count: 3_000))
        let id = EnvelopeID(ofEncoded: long.encoded())
        mesh.now = at
        try mesh.keep(long, at: Self.b)
        let recent = mesh.nodes[Self.b].recentLongMillis

        // Sent recently: the node lacking it holds a partial, and gets a few parities (not parity 0, sent first).
        let (_, soon) = try Self.askB(&mesh, for: [id.prefix], now: at + 10)
        let first = try Self.burst(mesh.nodes[Self.b].timerFired(.repair, now: soon, store: mesh.stores[Self.b]))
        #expect(!first.isEmpty)
        #expect(first.allSatisfy { if case .parity(_, _, let j, _) = $0 { j != 0 } else { false } })

        let (_, late) = try Self.askB(&mesh, for: [id.prefix], now: at + recent + 1_000)
        let second = try Self.burst(mesh.nodes[Self.b].timerFired(.repair, now: late, store: mesh.stores[Self.b]))
        #expect(second == Fragmenter.packets(for: long.encoded(), id: id))
    }
}
