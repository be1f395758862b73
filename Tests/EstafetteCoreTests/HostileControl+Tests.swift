import Testing

@testable import EstafetteCore

/// The gossip control plane against a forger on the LAN (issue 9, properties 3, 5, 6, 7): node A holds envelopes
/// node B lacks (B was away), and node X, the attacker, multicasts forged control packets from its own address
/// with a fresh session each. Everything runs in virtual time through `MeshHarness`.
@Suite("Hostile control plane")
struct HostileControlTests {
    static let a = 0
    static let b = 1
    static let x = 2

    /// An envelope of about `size` bytes (a direct message is about 350).
    static func filler(_ n: Int, size: Int = 300) -> Envelope {
        Envelope(
            kind: .channel, expiresAt: Fixture.expiry,
            body: Array("filler \(n) ".utf8) + [UInt8](repeating: 0x2E, count: size))
    }

    static func seal(_ packet: Packet, session: UInt64) -> [UInt8] {
        MeshKey.publicDefault.seal(packet, session: session)
    }

    /// A mesh of A, B and X (X absent: it only sends what the test forges), where A holds `missed` envelopes.
    static func awayMesh(missed: Int = 10) throws -> (mesh: MeshHarness, ids: [EnvelopeID]) {
        var mesh = MeshHarness(
            identities: [Fixture.alice, Fixture.bob, Fixture.carol], fundedAnswers: false)
        mesh.absent = [x]
        var ids: [EnvelopeID] = []
        for k in 0..<missed {
            let e = filler(k)
            try mesh.keep(e, at: a)
            ids.append(EnvelopeID(ofEncoded: e.encoded()))
        }
        return (mesh, ids)
    }

    /// Runs A and B for up to `seconds` of virtual time with their beacon timers firing every second (B beacons
    /// what it holds, A hears it disagree), while `forge(step)` gives the datagrams X multicasts every `stepMillis`.
    /// Returns the virtual milliseconds until B holds every one of `ids`, or nil.
    static func catchUp(
        _ mesh: inout MeshHarness, ids: [EnvelopeID], seconds: Int = 40, stepMillis: Millis = 200,
        forge: (inout SplitMix64, MeshHarness) -> [[UInt8]]
    ) -> Millis? {
        var rng = SplitMix64(seed: 99)
        let start = mesh.now
        var step = 0
        while mesh.now - start < Millis(seconds) * 1000 {
            if ids.allSatisfy({ mesh.nodes[b].holds($0) }) { return mesh.now - start }
            for d in forge(&rng, mesh) {
                for to in [a, b] { mesh.deliver(d, from: x, to: to) }
            }
            mesh.run()
            if step % Int(1000 / stepMillis) == 0 {
                for i in [a, b] {
                    mesh.execute(mesh.nodes[i].timerFired(.beacon, now: mesh.now, store: mesh.stores[i]), at: i)
                }
                mesh.run()
            }
            mesh.advance(by: stepMillis)
            step += 1
        }
        return ids.allSatisfy({ mesh.nodes[b].holds($0) }) ? mesh.now - start : nil
    }

    enum Forged: String, CaseIterable {
        case beacon, inventory, partialInventory, want, coded, all
    }

    /// One forged packet of `kind`, as the attacker in Tests/attack builds it: claims of the most envelopes, wants
    /// to A for what it holds, coded junk over A's envelopes (which B lacks).
    static func forged(_ kind: Forged, rng: inout SplitMix64, mesh: MeshHarness, step: Int) -> [UInt8] {
        let session = rng.next()
        let heard = mesh.stores[a].keys.map(\.prefix).sorted()
        var digest = [UInt8](repeating: 0, count: 32)
        for i in digest.indices { digest[i] = UInt8(truncatingIfNeeded: rng.next()) }
        switch kind {
        case .beacon:
            return seal(.beacon(count: .max, digest: EnvelopeID(bytes: digest)), session: session)
        case .inventory:
            return seal(
                .inventory(lo: 0, hi: .max, count: .max, digest: EnvelopeID(bytes: digest), prefixes: []),
                session: session)
        case .partialInventory:
            return seal(
                .inventory(lo: 0, hi: .max / 2, count: .max, digest: EnvelopeID(bytes: digest), prefixes: []),
                session: session)
        case .want:
            return seal(
                .want(target: mesh.nodes[a].session, need: 1, prefixes: Array(heard.prefix(8))), session: session)
        case .coded:
            let members = Array(heard.prefix(1 + Int(rng.next() % UInt64(heard.count))))
            let coefficients = members.map { _ in UInt8(1 + rng.next() % 255) }
            let payload = (0..<900).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            return seal(.coded(members: members, coefficients: coefficients, payload: payload), session: session)
        case .all:
            let kinds: [Forged] = [.beacon, .partialInventory, .want, .coded]
            return forged(kinds[step % kinds.count], rng: &rng, mesh: mesh, step: step)
        }
    }

    @Test("honest baseline: a node that was away catches up with 10 missed envelopes")
    func baseline() throws {
        var (mesh, ids) = try Self.awayMesh()
        let took = Self.catchUp(&mesh, ids: ids) { _, _ in [] }
        #expect(took != nil && took! <= 10_000, "took \(String(describing: took)) ms")
    }

    @Test(
        "a node that was away catches up within 40 s while forged control packets arrive at 5/s",
        arguments: Forged.allCases)
    func catchUpUnderForgery5(kind: Forged) throws {
        var (mesh, ids) = try Self.awayMesh()
        var step = 0
        let took = Self.catchUp(&mesh, ids: ids) { rng, m in
            step += 1
            return [Self.forged(kind, rng: &rng, mesh: m, step: step)]
        }
        #expect(took != nil && took! <= 40_000, "\(kind): took \(String(describing: took)) ms")
    }

    @Test("a node that was away catches up within 40 s while forged control packets of every kind arrive at 200/s")
    func catchUpUnderForgery200() throws {
        var (mesh, ids) = try Self.awayMesh()
        var step = 0
        let took = Self.catchUp(&mesh, ids: ids, stepMillis: 100) { rng, m in
            (0..<20).map { _ in
                step += 1
                return Self.forged(.all, rng: &rng, mesh: m, step: step)
            }
        }
        #expect(
            took != nil && took! <= 40_000,
            "took \(String(describing: took)) ms; a: \(mesh.nodes[Self.a].counters.values); b: \(mesh.nodes[Self.b].counters.values)"
        )
        // The forger is found out: its claims are no longer believed.
        for i in [Self.a, Self.b] {
            #expect(mesh.nodes[i].counters["claims_failed"] + mesh.nodes[i].counters["junk_sources"] > 0)
            #expect(!mesh.nodes[i].believes(mesh.addresses[Self.x].source, now: mesh.now))
        }
    }

    @Test("a beacon claiming more is believed only until the inventory it promises fails to come")
    func beaconClaimChecked() throws {
        var (mesh, _) = try Self.awayMesh(missed: 3)
        let xs = mesh.addresses[Self.x]
        let lie = Self.seal(.beacon(count: .max, digest: .zero), session: 1234)
        _ = mesh.nodes[Self.a].receive(lie, from: xs, now: mesh.now, store: mesh.stores[Self.a])
        #expect(!mesh.nodes[Self.a].repair.claims.deferrers.isEmpty || mesh.nodes[Self.a].repair.claimedMore != nil)
        // B's beacon (holding less) now asks A for its inventory: A defers to the claim, at first.
        let bBeacon = Self.seal(.beacon(count: 0, digest: .zero), session: mesh.nodes[Self.b].session)
        _ = mesh.nodes[Self.a].receive(bBeacon, from: mesh.addresses[Self.b], now: mesh.now, store: mesh.stores[Self.a])
        #expect(mesh.nodes[Self.a].repair.inventoryDue == nil)
        // No inventory from X by the deadline: the next beacon from B is answered, and X's claims are ignored.
        let later = mesh.now + MeshNode.Settings().claimDeadlineMillis
        _ = mesh.nodes[Self.a].receive(bBeacon, from: mesh.addresses[Self.b], now: later, store: mesh.stores[Self.a])
        #expect(mesh.nodes[Self.a].repair.inventoryDue != nil)
        #expect(!mesh.nodes[Self.a].believes(xs.source, now: later))
        _ = mesh.nodes[Self.a].receive(lie, from: xs, now: later + 1, store: mesh.stores[Self.a])
        #expect(mesh.nodes[Self.a].counters["claims_ignored"] == 1)
    }

    @Test("an inventory whose count is impossible for the prefixes it lists is refused, and its source distrusted")
    func impossibleCountRefused() throws {
        var (mesh, _) = try Self.awayMesh(missed: 3)
        let xs = mesh.addresses[Self.x]
        let whole = Self.seal(.inventory(lo: 0, hi: .max, count: 1_000, digest: .zero, prefixes: [1, 2]), session: 5)
        _ = mesh.nodes[Self.b].receive(whole, from: xs, now: mesh.now, store: mesh.stores[Self.b])
        #expect(mesh.nodes[Self.b].counters["drop.inventory_inconsistent"] == 1)
        #expect(!mesh.nodes[Self.b].believes(xs.source, now: mesh.now))
        let fewer = Self.seal(.inventory(lo: 0, hi: 10, count: 1, digest: .zero, prefixes: [1, 2]), session: 6)
        _ = mesh.nodes[Self.a].receive(fewer, from: xs, now: mesh.now, store: mesh.stores[Self.a])
        #expect(mesh.nodes[Self.a].counters["drop.inventory_inconsistent"] == 1)
    }
}
