import Testing

@testable import EstafetteCore

@Suite("Coded repair")
struct CodingTests {
    static func envelopes(_ n: Int, seed: UInt64) -> [(id: EnvelopeID, bytes: [UInt8])] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            let body = Fixture.bytes(Int.random(in: 50...900, using: &rng), using: &rng)
            let bytes = Envelope(kind: .channel, expiresAt: Fixture.expiry, body: body).encoded()
            return (EnvelopeID(ofEncoded: bytes), bytes)
        }
    }

    @Test("GF(256): every non-zero element has an inverse, and multiplication distributes over XOR")
    func field() {
        for a in 1...255 {
            #expect(GF256.mul(UInt8(a), GF256.inverse(UInt8(a))) == 1)
            #expect(GF256.mul(UInt8(a), 1) == UInt8(a))
            #expect(GF256.mul(UInt8(a), 0) == 0)
        }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<1_000 {
            let (a, b, c) = (UInt8(rng.next() & 0xFF), UInt8(rng.next() & 0xFF), UInt8(rng.next() & 0xFF))
            #expect(GF256.mul(a, b ^ c) == GF256.mul(a, b) ^ GF256.mul(a, c))
            #expect(GF256.mul(a, b) == GF256.mul(b, a))
        }
    }

    /// A receiver holding `held` solves the packets of a burst: what it ends with.
    static func solve(
        _ packets: [Packet], held: [(id: EnvelopeID, bytes: [UInt8])]
    ) -> (solved: [UInt64: [UInt8]], outcomes: [CodedDecoder.Outcome]) {
        var decoder = CodedDecoder()
        var solved: [UInt64: [UInt8]] = [:]
        var outcomes: [CodedDecoder.Outcome] = []
        let known = Dictionary(uniqueKeysWithValues: held.map { ($0.id.prefix, $0.bytes) })
        for packet in packets {
            switch packet {
            case .envelope(let bytes):
                let prefix = EnvelopeID(ofEncoded: bytes).prefix
                if known[prefix] == nil, solved[prefix] == nil {
                    solved[prefix] = bytes
                    for s in decoder.learn(prefix, bytes: bytes, now: 0) {
                        solved[s.prefix] = MeshNode.unpadded(s.bytes)
                    }
                }
            case .coded(let members, let coefficients, var payload):
                var unknowns: [UInt64: UInt8] = [:]
                for (p, c) in zip(members, coefficients) {
                    if let b = known[p] ?? solved[p] {
                        GF256.addScaled(b, times: c, into: &payload)
                    } else {
                        unknowns[p] = c
                    }
                }
                guard !unknowns.isEmpty else { continue }
                let outcome = decoder.add(unknowns, payload: payload, now: 0)
                outcomes.append(outcome)
                if case .added(let done) = outcome {
                    for s in done { solved[s.prefix] = MeshNode.unpadded(s.bytes) }
                }
            default:
                Issue.record("unexpected packet \(packet)")
            }
        }
        return (solved, outcomes)
    }

    @Test(
        "every receiver lacking at most `need` of a burst's envelopes solves exactly those",
        arguments: [1, 2, 3, 4] as [UInt64])
    func receiversSolve(seed: UInt64) {
        let all = Self.envelopes(12, seed: seed)
        var rng = SplitMix64(seed: seed &+ 100)
        let need = 3
        let packets = CodedRepair.packets(for: all, need: need, rng: &rng)
        #expect(packets.allSatisfy { if case .coded = $0 { true } else { false } })
        #expect(packets.count < all.count, "fewer packets than envelopes")
        // Twenty receivers, each lacking a different random 1...need of them.
        for _ in 0..<20 {
            let lacking = Set(all.indices.shuffled(using: &rng).prefix(Int.random(in: 1...need, using: &rng)))
            let held = all.indices.filter { !lacking.contains($0) }.map { all[$0] }
            let (solved, _) = Self.solve(packets, held: held)
            // GF(256) combinations are independent with probability about 1 − 1/255 per packet: allow none here
            // (fixed seeds), and require the bytes to be exactly the envelopes.
            #expect(Set(solved.keys) == Set(lacking.map { all[$0].id.prefix }))
            for i in lacking { #expect(solved[all[i].id.prefix] == all[i].bytes) }
        }
    }

    @Test("combinations from two bursts solve together what neither solves alone")
    func acrossBursts() {
        let all = Self.envelopes(6, seed: 9)
        var rng = SplitMix64(seed: 10)
        let one = CodedRepair.packets(for: all, need: 1, rng: &rng)
        let other = CodedRepair.packets(for: Array(all.prefix(4)), need: 1, rng: &rng)
        let held = Array(all.dropFirst(2))  // lacks envelopes 0 and 1, both members of both bursts
        #expect(Self.solve(one, held: held).solved.isEmpty)
        let both = Self.solve(one + other, held: held).solved
        #expect(both[all[0].id.prefix] == all[0].bytes && both[all[1].id.prefix] == all[1].bytes)
    }

    @Test("a combination that says nothing new is redundant; a full decoder refuses new rows")
    func boundsAndRedundancy() {
        var decoder = CodedDecoder()
        decoder.maxRows = 2
        #expect(decoder.add([1: 1, 2: 1, 3: 1], payload: [1], now: 0) == .added(solved: []))
        #expect(decoder.add([1: 2, 2: 2, 3: 2], payload: [2], now: 0) == .redundant)
        #expect(decoder.add([1: 1, 2: 2, 3: 3], payload: [3], now: 0) == .added(solved: []))
        #expect(decoder.add([4: 1, 5: 1], payload: [4], now: 0) == .full)
        #expect(decoder.expire(now: decoder.timeoutMillis) == 2)
        #expect(decoder.isEmpty)
    }

    @Test("envelopes too long to combine go out whole, fragmented")
    func longOnesWhole() {
        var rng = SplitMix64(seed: 1)
        let long = Envelope(kind: .channel, expiresAt: Fixture.expiry, body: Fixture.bytes(3_000, using: &rng))
            .encoded()
        let small = Self.envelopes(4, seed: 2)
        let packets = CodedRepair.packets(
            for: small + [(EnvelopeID(ofEncoded: long), long)], need: 1, rng: &rng)
        let fragments = packets.filter { if case .fragment = $0 { true } else { false } }
        #expect(fragments.count == 3)
        #expect(packets.filter { if case .coded = $0 { true } else { false } }.count == 1)
    }

    @Test("a corrupted coded packet solves to garbage, which is dropped, counted, and not stored")
    func corrupted() throws {
        var mesh = MeshHarness(identities: [Fixture.alice, Fixture.bob])
        let all = Self.envelopes(3, seed: 4)
        var rng = SplitMix64(seed: 5)
        guard
            case .coded(let members, let coefficients, var payload) = CodedRepair.packets(for: all, need: 1, rng: &rng)[
                0]
        else {
            Issue.record("expected a coded packet")
            return
        }
        payload[0] ^= 0xFF
        let datagram = MeshKey.publicDefault.seal(
            .coded(members: members, coefficients: coefficients, payload: payload), session: 77)
        // Node 1 holds envelopes 1 and 2, so it solves for envelope 0.
        for e in all.dropFirst() { try mesh.submit(try Envelope(decoding: e.bytes), at: 1) }
        let actions = mesh.deliver(datagram, from: 0, to: 1)
        #expect(!actions.contains { if case .store = $0 { true } else { false } })
        #expect(mesh.nodes[1].counters["drop.coded_mismatch"] == 1)
        #expect(!mesh.nodes[1].holds(all[0].id))
    }
}
