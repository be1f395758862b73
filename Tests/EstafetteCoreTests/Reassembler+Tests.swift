import Testing

@testable import EstafetteCore

@Suite("Fragmenter and Reassembler")
struct ReassemblerTests {
    static let big: [UInt8] = {
        var rng = SplitMix64(seed: 20)
        return Envelope(
            kind: .channel, expiresAt: Fixture.expiry, tag: [1, 2, 3], body: Fixture.bytes(20_000, using: &rng)
        )
        .encoded()
    }()
    static let bigID = EnvelopeID(ofEncoded: big)

    struct Piece: Equatable {
        let stream: UInt64
        let offset: UInt32
        let total: UInt32
        let chunk: [UInt8]
    }

    static func pieces(_ packets: [Packet]) -> [Piece] {
        packets.compactMap {
            guard case .fragment(let stream, let offset, let total, let chunk) = $0 else { return nil }
            return Piece(stream: stream, offset: offset, total: total, chunk: chunk)
        }
    }

    static func settings(_ configure: (inout Reassembler.Settings) -> Void) -> Reassembler.Settings {
        var s = Reassembler.Settings()
        configure(&s)
        return s
    }

    // MARK: - Fragmenter

    @Test("an envelope that fits travels as one envelope packet")
    func smallIsWhole() {
        let small = Envelope(kind: .alert, expiresAt: 1, body: [1, 2, 3]).encoded()
        #expect(Fragmenter.packets(for: small, id: EnvelopeID(ofEncoded: small)) == [.envelope(small)])
        let exact = [UInt8](repeating: 1, count: Packet.maxPayloadBytes)
        #expect(Fragmenter.packets(for: exact, id: .zero) == [.envelope(exact)])
        #expect(Fragmenter.packets(for: exact + [1], id: .zero).count == 3, "two fragments and their parity")
    }

    @Test("a 20 KB envelope fragments into datagrams of at most maxDatagramBytes that tile it, then a parity")
    func fragments() throws {
        let packets = Fragmenter.packets(for: Self.big, id: Self.bigID)
        let pieces = Self.pieces(packets)
        #expect(pieces.count == packets.count - 1)
        guard case .parity(let stream, let total, let index, let parity) = packets.last else {
            Issue.record("the last packet is not the parity: \(String(describing: packets.last))")
            return
        }
        #expect(stream == Self.bigID.prefix && total == UInt32(Self.big.count) && index == 0)
        #expect(parity.count == Packet.maxChunkBytes)
        #expect(pieces.count == (Self.big.count + Packet.maxChunkBytes - 1) / Packet.maxChunkBytes)
        var expectedOffset: UInt32 = 0
        for piece in pieces {
            #expect(piece.stream == Self.bigID.prefix)
            #expect(piece.total == UInt32(Self.big.count))
            #expect(piece.offset == expectedOffset)
            #expect(!piece.chunk.isEmpty && piece.chunk.count <= Packet.maxChunkBytes)
            expectedOffset += UInt32(piece.chunk.count)
        }
        #expect(expectedOffset == UInt32(Self.big.count))
        for packet in packets {
            let datagram = MeshKey.publicDefault.seal(packet, session: 1)
            #expect(datagram.count <= Packet.maxDatagramBytes)
            #expect(try MeshKey.publicDefault.open(datagram).packet == packet)
        }
    }

    @Test("the largest envelope still fragments within the pieces limit")
    func largestEnvelope() {
        let packets = Fragmenter.packets(for: [UInt8](repeating: 0, count: Envelope.maxEncodedBytes), id: .zero)
        #expect(packets.count <= Reassembler.Settings().maxPiecesPerStream)
    }

    // MARK: - Reassembly

    @Test("the parity rebuilds any one lost fragment; two lost wait for more")
    func parityRebuilds() throws {
        let packets = Fragmenter.packets(for: Self.big, id: Self.bigID)
        let pieces = Self.pieces(packets)
        guard case .parity(_, _, 0, let parity) = packets.last else {
            Issue.record("no parity")
            return
        }
        for lost in pieces.indices {
            var r = Reassembler()
            for (i, p) in pieces.enumerated() where i != lost {
                #expect(
                    r.add(source: "0/h1", stream: p.stream, offset: p.offset, total: p.total, chunk: p.chunk, now: 0)
                        == .pending)
            }
            let outcome = r.addParity(
                source: "0/h1", stream: Self.bigID.prefix, total: UInt32(Self.big.count), index: 0, parity: parity,
                now: 0)
            #expect(outcome == .complete(Self.big), "fragment \(lost) lost")
            #expect(r.partialCount == 0 && r.bytesHeld == 0)
        }
        // Parity first, then all but one fragment: complete at the last of them.
        var first = Reassembler()
        #expect(
            first.addParity(
                source: "0/h1", stream: Self.bigID.prefix, total: UInt32(Self.big.count), index: 0, parity: parity,
                now: 0)
                == .pending)
        var last: Reassembler.Outcome = .pending
        for p in pieces.dropFirst() {
            last = first.add(source: "0/h1", stream: p.stream, offset: p.offset, total: p.total, chunk: p.chunk, now: 0)
        }
        #expect(last == .complete(Self.big))
        // Two lost: the parity cannot help.
        var two = Reassembler()
        for p in pieces.dropFirst(2) {
            _ = two.add(source: "0/h1", stream: p.stream, offset: p.offset, total: p.total, chunk: p.chunk, now: 0)
        }
        #expect(
            two.addParity(
                source: "0/h1", stream: Self.bigID.prefix, total: UInt32(Self.big.count), index: 0, parity: parity,
                now: 0)
                == .pending)
    }

    @Test("a parity of the wrong length, or for an envelope that fits one datagram, is refused on the wire")
    func parityLength() {
        let key = MeshKey.publicDefault
        let short = key.seal(.parity(stream: 1, total: 5_000, index: 0, chunk: [1, 2, 3]), session: 1)
        #expect(throws: WireError.invalid("parity length")) { try key.open(short) }
        let small = key.seal(
            .parity(stream: 1, total: 100, index: 0, chunk: [UInt8](repeating: 0, count: Packet.maxChunkBytes)),
            session: 1)
        #expect(throws: WireError.invalid("parity length")) { try key.open(small) }
    }

    @Test(
        "fragments reassemble in any order, with duplicates, to the same bytes", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func shuffledAndDuplicated(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        // Through the wire: seal, open, and only then reassemble.
        var pieces: [Piece] = try Fragmenter.packets(for: Self.big, id: Self.bigID).flatMap {
            let (_, packet) = try MeshKey.publicDefault.open(MeshKey.publicDefault.seal($0, session: 9))
            return Self.pieces([packet])  // the parity is left out: every fragment comes
        }
        pieces.shuffle(using: &rng)
        let last = pieces.removeLast()
        var feed = pieces
        for _ in 0..<6 {
            feed.insert(pieces.randomElement(using: &rng)!, at: Int.random(in: 0...feed.count, using: &rng))
        }
        feed.append(last)

        var r = Reassembler()
        var outcomes: [Reassembler.Outcome] = []
        for (i, p) in feed.enumerated() {
            outcomes.append(
                r.add(source: "0/h9", stream: p.stream, offset: p.offset, total: p.total, chunk: p.chunk, now: Int64(i))
            )
        }
        #expect(outcomes.dropLast().allSatisfy { $0 == .pending })
        #expect(outcomes.last == .complete(Self.big))
        #expect(r.partialCount == 0)
        #expect(r.bytesHeld == 0)
    }

    @Test("pieces of one stream combine whichever node sent them; a different total is refused")
    func sessionsCombine() {
        var r = Reassembler()
        let total: UInt32 = 6
        #expect(r.add(source: "0/h1", stream: 5, offset: 0, total: total, chunk: [1, 1, 1], now: 0) == .pending)
        #expect(
            r.add(source: "0/h2", stream: 5, offset: 0, total: total + 1, chunk: [2, 2, 2], now: 0)
                == .dropped("fragment_inconsistent"))
        #expect(r.add(source: "0/h2", stream: 5, offset: 0, total: total, chunk: [2, 2, 2], now: 0) == .pending)
        #expect(
            r.add(source: "0/h2", stream: 5, offset: 3, total: total, chunk: [2, 2, 2], now: 0)
                == .complete([1, 1, 1, 2, 2, 2]), "the first copy of a piece is kept")
        #expect(r.partialCount == 0 && r.bytesHeld == 0)
    }

    @Test(
        "a repair's parities, from another node, rebuild the fragments a receiver lacks",
        arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func repairParities(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let packets = Fragmenter.packets(for: Self.big, id: Self.bigID)
        let pieces = Self.pieces(packets)
        let k = pieces.count
        // The receiver lost `lost` fragments (and, half the time, parity 0 too) of the original.
        let lost = 1 + Int(rng.next() % 4)
        var missing = Set<Int>()
        while missing.count < lost { missing.insert(Int(rng.next() % UInt64(k))) }
        let keepsParity0 = lost > 1 && rng.next() % 2 == 0  // with one lost, parity 0 alone would rebuild it
        var r = Reassembler()
        for (i, p) in pieces.enumerated() where !missing.contains(i) {
            #expect(
                r.add(source: "0/h1", stream: p.stream, offset: p.offset, total: p.total, chunk: p.chunk, now: 0)
                    == .pending)
        }
        if keepsParity0, case .parity(let s, let t, let j, let c)? = packets.last {
            #expect(r.addParity(source: "0/h1", stream: s, total: t, index: j, parity: c, now: 0) == .pending)
        }
        #expect(r.isPending(Self.bigID.prefix))
        // A repair from node 2 sends parities with fresh indices; they arrive one by one.
        let needed = lost - (keepsParity0 ? 1 : 0)
        var indices: [UInt8] = []
        while indices.count < needed + 1 {
            let j = UInt8(1 + rng.next() % 254)
            if !indices.contains(j) { indices.append(j) }
        }
        var outcome: Reassembler.Outcome = .pending
        var used = 0
        for case .parity(let s, let t, let j, let c) in Fragmenter.parities(
            for: Self.big, id: Self.bigID, indices: indices)
        {
            guard outcome == .pending else { break }
            outcome = r.addParity(source: "0/h2", stream: s, total: t, index: j, parity: c, now: 1)
            used += 1
        }
        #expect(outcome == .complete(Self.big))
        // Exactly as many as it lacked, or one more in the rare case that the equations were dependent.
        #expect(used == needed || used == needed + 1, "lost \(missing.sorted()), parity 0 kept: \(keepsParity0)")
        #expect(r.partialCount == 0 && r.bytesHeld == 0)
    }

    @Test("a repair's parity count covers three lost pieces, and grows with the envelope")
    func parityRepairCount() {
        #expect(CodedRepair.parityRepairCount(fragments: 2) == 2)
        #expect(CodedRepair.parityRepairCount(fragments: 4) == 2)
        #expect(CodedRepair.parityRepairCount(fragments: 18) == 4)
        #expect(CodedRepair.parityRepairCount(fragments: 1) == 1)
    }

    @Test("a source address may hold only maxStreamsPerSource partial envelopes, whatever sessions it uses")
    func perSourceLimit() {
        var r = Reassembler(settings: Self.settings { $0.maxStreamsPerSource = 2 })
        #expect(r.add(source: "0/h1", stream: 1, offset: 0, total: 10, chunk: [0], now: 0) == .pending)
        #expect(r.add(source: "0/h1", stream: 2, offset: 0, total: 10, chunk: [0], now: 0) == .pending)
        #expect(
            r.add(source: "0/h1", stream: 3, offset: 0, total: 10, chunk: [0], now: 0)
                == .dropped("reassembly_source_limit"))
        // Existing streams continue, and another source is unaffected.
        #expect(r.add(source: "0/h1", stream: 2, offset: 1, total: 10, chunk: [0], now: 0) == .pending)
        #expect(r.add(source: "0/h2", stream: 3, offset: 0, total: 10, chunk: [0], now: 0) == .pending)
        #expect(r.partialCount == 3)
        // Completing one frees a slot.
        #expect(
            r.add(source: "0/h1", stream: 1, offset: 1, total: 10, chunk: [UInt8](repeating: 0, count: 9), now: 0)
                == .complete([UInt8](repeating: 0, count: 10)))
        #expect(r.add(source: "0/h1", stream: 4, offset: 0, total: 10, chunk: [0], now: 0) == .pending)
        #expect(r.partialCount == 3)
    }

    @Test("memory is charged by the bytes received, not by the size a first fragment declares")
    func chargedByBytesReceived() {
        var r = Reassembler(settings: Self.settings { $0.maxTotalBytes = 3_000 })
        // Declaring 30 KB costs the one byte sent.
        #expect(r.add(source: "0/h1", stream: 1, offset: 0, total: 30_000, chunk: [0], now: 0) == .pending)
        #expect(r.bytesHeld == 1)
        #expect(
            r.add(source: "0/h2", stream: 2, offset: 0, total: 30_000, chunk: [UInt8](repeating: 1, count: 999), now: 0)
                == .pending)
        #expect(r.bytesHeld == 1_000)
        // A total no envelope can have is refused.
        #expect(
            r.add(source: "0/h3", stream: 3, offset: 0, total: UInt32(Envelope.maxEncodedBytes + 1), chunk: [0], now: 0)
                == .dropped("fragment_total"))
    }

    @Test(
        "one source holds at most maxBytesPerSource; when all sources fill the total, a light source evicts the heaviest's oldest partial"
    )
    func memoryPerSource() {
        var r = Reassembler(
            settings: Self.settings {
                $0.maxTotalBytes = 3_000
                $0.maxBytesPerSource = 2_000
            })
        let k = [UInt8](repeating: 7, count: 500)
        // The flooder: 4 partials of 500 bytes, then refused at its own bound.
        for s: UInt64 in 1...4 {
            #expect(r.add(source: "0/flood", stream: s, offset: 0, total: 20_000, chunk: k, now: Int64(s)) == .pending)
        }
        #expect(
            r.add(source: "0/flood", stream: 5, offset: 0, total: 20_000, chunk: k, now: 5)
                == .dropped("reassembly_source_memory"))
        // A second flooding address fills the total.
        #expect(r.add(source: "0/flood2", stream: 6, offset: 0, total: 20_000, chunk: k, now: 6) == .pending)
        #expect(r.add(source: "0/flood2", stream: 7, offset: 0, total: 20_000, chunk: k, now: 7) == .pending)
        #expect(r.bytesHeld == 3_000)
        // An honest source's long message still gets in: the heaviest source's oldest partial (stream 1) goes.
        #expect(r.add(source: "0/honest", stream: 9, offset: 0, total: 1_000, chunk: k, now: 8) == .pending)
        #expect(!r.isPending(1) && r.isPending(2) && r.isPending(6))
        #expect(r.add(source: "0/honest", stream: 9, offset: 500, total: 1_000, chunk: k, now: 9) == .complete(k + k))
        #expect(r.evicted >= 1)
        // Full again; a source beyond its fair share cannot evict others' work to make room for more of its own.
        #expect(r.add(source: "0/flood2", stream: 8, offset: 0, total: 20_000, chunk: k, now: 10) == .pending)
        #expect(r.add(source: "0/flood2", stream: 10, offset: 0, total: 20_000, chunk: k, now: 11) == .pending)
        #expect(r.bytesHeld == 3_000)
        #expect(r.add(source: "0/flood2", stream: 11, offset: 0, total: 20_000, chunk: k, now: 12) != .pending)
        #expect(r.bytesHeld == 3_000 && r.isPending(3) && r.isPending(4))
    }

    @Test("a wrong piece costs only the partial it was sent into")
    func badPieceCostsItsPartial() {
        var r = Reassembler()
        #expect(r.add(source: "0/a", stream: 1, offset: 0, total: 6, chunk: [1, 1, 1], now: 0) == .pending)
        #expect(r.add(source: "0/a", stream: 2, offset: 0, total: 6, chunk: [2, 2, 2], now: 0) == .pending)
        // Overlapping junk into stream 1 completes it wrongly: it is dropped, stream 2 is untouched.
        #expect(
            r.add(source: "0/x", stream: 1, offset: 2, total: 6, chunk: [9, 9, 9, 9], now: 0)
                == .dropped("fragment_overlap"))
        #expect(!r.isPending(1) && r.isPending(2))
        #expect(
            r.add(source: "0/a", stream: 2, offset: 3, total: 6, chunk: [2, 2, 2], now: 0)
                == .complete([2, 2, 2, 2, 2, 2]))
        #expect(r.bytesHeld == 0)
    }

    @Test("a stream may have only maxPiecesPerStream pieces; exceeding it drops the whole stream")
    func piecesLimit() {
        var r = Reassembler(settings: Self.settings { $0.maxPiecesPerStream = 4 })
        for i: UInt32 in 0..<4 {
            #expect(r.add(source: "0/h1", stream: 1, offset: i, total: 100, chunk: [0], now: 0) == .pending)
        }
        #expect(
            r.add(source: "0/h1", stream: 1, offset: 4, total: 100, chunk: [0], now: 0)
                == .dropped("fragment_too_many_pieces"))
        #expect(r.partialCount == 0)
        #expect(r.bytesHeld == 0)
    }

    @Test("partial envelopes time out")
    func timeout() {
        var r = Reassembler(settings: Self.settings { $0.timeoutMillis = 10_000 })
        #expect(r.add(source: "0/h1", stream: 1, offset: 0, total: 10, chunk: [0], now: 1_000) == .pending)
        #expect(r.add(source: "0/h1", stream: 2, offset: 0, total: 10, chunk: [0], now: 5_000) == .pending)
        #expect(r.expire(now: 10_999) == 0)
        #expect(r.partialCount == 2)
        #expect(r.expire(now: 11_000) == 1)
        #expect(r.partialCount == 1)
        #expect(r.bytesHeld == 1)
        #expect(r.expire(now: 15_000) == 1)
        #expect(r.partialCount == 0)
        #expect(r.bytesHeld == 0)
        // A late fragment of an expired stream starts afresh rather than completing it.
        #expect(
            r.add(source: "0/h1", stream: 1, offset: 1, total: 10, chunk: [UInt8](repeating: 0, count: 9), now: 20_000)
                == .pending)
    }

    @Test("overlapping fragments are dropped, never assembled")
    func overlap() {
        var r = Reassembler()
        #expect(
            r.add(source: "0/h1", stream: 1, offset: 0, total: 10, chunk: [UInt8](repeating: 1, count: 6), now: 0)
                == .pending)
        #expect(
            r.add(source: "0/h1", stream: 1, offset: 4, total: 10, chunk: [UInt8](repeating: 2, count: 6), now: 0)
                == .dropped("fragment_overlap"))
        #expect(r.partialCount == 0)
        #expect(r.bytesHeld == 0)
        // Overlap with a gap: the bytes add up but do not tile.
        #expect(
            r.add(source: "0/h1", stream: 2, offset: 0, total: 10, chunk: [UInt8](repeating: 1, count: 5), now: 0)
                == .pending)
        #expect(
            r.add(source: "0/h1", stream: 2, offset: 3, total: 10, chunk: [UInt8](repeating: 2, count: 3), now: 0)
                == .pending)
        #expect(
            r.add(source: "0/h1", stream: 2, offset: 8, total: 10, chunk: [UInt8](repeating: 3, count: 2), now: 0)
                == .dropped("fragment_overlap"))
    }

    @Test("a fragment disagreeing about the total is dropped")
    func inconsistentTotal() {
        var r = Reassembler()
        #expect(r.add(source: "0/h1", stream: 1, offset: 0, total: 10, chunk: [0], now: 0) == .pending)
        #expect(
            r.add(source: "0/h1", stream: 1, offset: 1, total: 11, chunk: [0], now: 0)
                == .dropped("fragment_inconsistent"))
        #expect(r.bytesHeld == 1)
    }
}
