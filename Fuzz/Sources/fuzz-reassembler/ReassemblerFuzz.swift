@_spi(Fuzzing) import EstafetteCore
import FuzzSupport

/// Fuzz target `reassembler`: sequences of fragments and parities, genuine and forged, from several peers,
/// over time, into one `Reassembler`.
///
/// Input: settings u8 (bit 0: a 40 kB memory bound, bit 1: 2 partials per peer, bit 2: 8 pieces per envelope),
/// envelope count u8, one length choice u8 per envelope (`lengths`: around every fragment boundary), then
/// operations (see `step`). The envelopes are seeded random bytes of those lengths; their fragments and parities come from `Fragmenter`, as a sender makes
/// them. Forged pieces go through the packet decoder first, so they are exactly what the LAN can deliver.
///
/// Checks, after every piece: the bytes held never exceed the bound, and are zero exactly when nothing is
/// pending; an envelope whose pieces were all genuine completes with its own bytes (also when rebuilt from
/// parities), completes once all its fragments are in, and is dropped only by a bound.
enum ReassemblerFuzz {
    struct Truth {
        let bytes: [UInt8]
        let id: EnvelopeID
        var stream: UInt64 { id.prefix }
        let fragments: [(offset: UInt32, chunk: [UInt8])]
    }

    struct State {
        var reassembler: Reassembler
        let settings: Reassembler.Settings
        let truths: [Truth]
        var now: Millis = Samples.now
        var session: UInt64 = 1
        var sessionsUsed: Set<UInt64> = [1]
        /// Streams that received a forged piece: no claim about what they assemble.
        var tainted: Set<UInt64> = []
        /// Fragment offsets delivered to the open partial of each genuine stream.
        var delivered: [UInt64: Set<UInt32>] = [:]
    }

    static let key = MeshKey.publicDefault

    /// Envelope lengths around every fragment boundary: one byte into a new fragment, and whole fragments.
    static let lengths: [Int] = {
        let chunk = Packet.maxChunkBytes
        var out = [Packet.maxPayloadBytes + 1, Envelope.maxEncodedBytes]
        for f in 2...(Envelope.maxEncodedBytes / chunk) { out += [(f - 1) * chunk + 1, f * chunk] }
        return out.filter { $0 > Packet.maxPayloadBytes && $0 <= Envelope.maxEncodedBytes }
    }()

    /// Envelopes made once per (slot, length): seeded bytes, their fragments.
    nonisolated(unsafe) static var made: [Int: Truth] = [:]

    /// The parity indices genuine senders use here: the first few, and some far apart (255 repeats 0).
    static let parityIndices: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 31, 64, 127, 128, 200, 254, 255]

    /// Parities made once per (envelope, index), as a sender makes them.
    nonisolated(unsafe) static var parities: [ParityKey: [UInt8]] = [:]

    struct ParityKey: Hashable {
        let id: EnvelopeID
        let index: UInt8
    }

    static func parity(of t: Truth, index: UInt8) -> [UInt8] {
        let key = ParityKey(id: t.id, index: index)
        if let p = parities[key] { return p }
        guard case .parity(_, _, _, let chunk) = Fragmenter.parities(for: t.bytes, id: t.id, indices: [index])[0] else {
            fatalError("Fragmenter made something other than a parity")
        }
        parities[key] = chunk
        return chunk
    }

    static func truth(_ k: Int, lengthIndex: Int) -> Truth {
        let slot = k * lengths.count + lengthIndex
        if let t = made[slot] { return t }
        let bytes = seededBytes(lengths[lengthIndex], seed: UInt64(slot))
        let id = EnvelopeID(ofEncoded: bytes)
        let fragments: [(offset: UInt32, chunk: [UInt8])] = Fragmenter.packets(for: bytes, id: id).compactMap {
            if case .fragment(_, let offset, _, let chunk) = $0 { return (offset, chunk) }
            return nil
        }
        let t = Truth(bytes: bytes, id: id, fragments: fragments)
        made[slot] = t
        return t
    }

    static func run(_ input: FuzzInput) {
        var input = input
        let variant = input.u8()
        var settings = Reassembler.Settings()
        if variant & 1 != 0 { settings.maxTotalBytes = 40_000 }
        if variant & 2 != 0 { settings.maxStreamsPerSource = 2 }
        if variant & 4 != 0 { settings.maxPiecesPerStream = 8 }
        let n = 1 + Int(input.u8() % 4)
        let truths = (0..<n).map { k in truth(k, lengthIndex: Int(input.u8()) % lengths.count) }
        var state = State(reassembler: Reassembler(settings: settings), settings: settings, truths: truths)
        var steps = 0
        while !input.isEmpty, steps < 2_000 {
            step(&state, &input)
            steps += 1
        }
    }

    static func step(_ s: inout State, _ input: inout FuzzInput) {
        let op = input.u8() % 8
        let k = Int(input.u8()) % s.truths.count
        let t = s.truths[k]
        switch op {
        case 0, 1:
            let f = t.fragments[Int(input.u8()) % t.fragments.count]
            let outcome = s.reassembler.add(
                source: source(s.session), stream: t.stream, offset: f.offset, total: UInt32(t.bytes.count), chunk: f.chunk,
                now: s.now)
            check(&s, outcome, stream: t.stream, total: t.bytes.count, genuineFragment: f.offset)
        case 2:
            let index = parityIndices[Int(input.u8()) % parityIndices.count]
            let chunk = parity(of: t, index: index)
            let outcome = s.reassembler.addParity(
                source: source(s.session), stream: t.stream, total: UInt32(t.bytes.count), index: index, parity: chunk,
                now: s.now)
            check(&s, outcome, stream: t.stream, total: t.bytes.count, genuineFragment: nil)
        case 3, 4, 7:
            forged(&s, &input, op: op, truth: t)
        case 5:
            s.now += Millis(input.u16()) * 10
            _ = s.reassembler.expire(now: s.now)
            for stream in s.delivered.keys where !s.reassembler.isPending(stream) { s.delivered[stream] = nil }
            checkBounds(s)
        default:
            s.session = UInt64(1 + input.u8() % 8)
            s.sessionsUsed.insert(s.session)
        }
    }

    /// A forged fragment (op 3), a forged parity (op 4) or a genuine fragment with one bit flipped (op 7),
    /// through the packet decoder.
    static func forged(_ s: inout State, _ input: inout FuzzInput, op: UInt8, truth t: Truth) {
        func stream(_ input: inout FuzzInput) -> UInt64 { input.bool() ? t.stream : UInt64(input.u8()) }
        let packet: Packet
        switch op {
        case 3:
            let stream = stream(&input)
            let offset = input.bool() ? UInt32(input.u8() % 32) * UInt32(Packet.maxChunkBytes) : input.u32()
            let total = input.bool() ? UInt32(t.bytes.count) : input.u32() % UInt32(Envelope.maxEncodedBytes + 2)
            packet = .fragment(stream: stream, offset: offset, total: total, chunk: input.blob(max: Packet.maxChunkBytes))
        case 4:
            let stream = stream(&input)
            let total = input.bool() ? UInt32(t.bytes.count) : input.u32() % UInt32(Envelope.maxEncodedBytes + 2)
            packet = .parity(stream: stream, total: total, index: input.u8(), chunk: input.exactly(Packet.maxChunkBytes))
        default:
            let f = t.fragments[Int(input.u8()) % t.fragments.count]
            var chunk = f.chunk
            let bit = Int(input.u16()) % (chunk.count * 8)
            chunk[bit / 8] ^= 1 << UInt8(bit % 8)
            packet = .fragment(stream: t.stream, offset: f.offset, total: UInt32(t.bytes.count), chunk: chunk)
        }
        guard let (_, decoded) = try? key.open(key.seal(packet, session: s.session)) else { return }
        switch decoded {
        case .fragment(let stream, let offset, let total, let chunk):
            taint(&s, stream)
            let outcome = s.reassembler.add(
                source: source(s.session), stream: stream, offset: offset, total: total, chunk: chunk, now: s.now)
            check(&s, outcome, stream: stream, total: Int(total), genuineFragment: nil)
        case .parity(let stream, let total, let index, let chunk):
            taint(&s, stream)
            let outcome = s.reassembler.addParity(
                source: source(s.session), stream: stream, total: total, index: index, parity: chunk, now: s.now)
            check(&s, outcome, stream: stream, total: Int(total), genuineFragment: nil)
        default:
            fuzzCheck(false, "a \(packet) decoded as \(decoded)")
        }
    }

    static func taint(_ s: inout State, _ stream: UInt64) {
        s.tainted.insert(stream)
        s.delivered[stream] = nil
    }

    static func check(
        _ s: inout State, _ outcome: Reassembler.Outcome, stream: UInt64, total: Int, genuineFragment: UInt32?
    ) {
        checkBounds(s)
        let truth = s.truths.first { $0.stream == stream }
        let genuine = truth != nil && !s.tainted.contains(stream)
        switch outcome {
        case .complete(let bytes):
            fuzzCheck(bytes.count == total, "completed \(bytes.count) bytes of an envelope of \(total)")
            if genuine { fuzzCheck(bytes == truth!.bytes, "genuine pieces assembled into the wrong bytes") }
            fuzzCheck(!s.reassembler.isPending(stream), "a completed stream is still pending")
            s.delivered[stream] = nil
        case .pending:
            fuzzCheck(s.reassembler.isPending(stream), "pending, but no partial for the stream")
            if genuine, let offset = genuineFragment {
                s.delivered[stream, default: []].insert(offset)
                fuzzCheck(
                    s.delivered[stream]!.count < truth!.fragments.count,
                    "every genuine fragment delivered, yet the envelope is still pending")
            }
        case .dropped(let reason):
            if genuine {
                let bounds = [
                    "reassembly_source_limit", "reassembly_source_memory", "reassembly_memory_limit",
                    "fragment_too_many_pieces",
                ]
                fuzzCheck(bounds.contains(reason), "genuine piece dropped: \(reason)")
            }
            if !s.reassembler.isPending(stream) { s.delivered[stream] = nil }
        }
    }

    /// Each fuzzed peer session stands for a source address of its own (budgets are kept per source).
    static func source(_ session: UInt64) -> String { "0/10.0.0.\(session)" }

    static func checkBounds(_ s: State) {
        let held = s.reassembler.fuzzingBytesHeld
        let partials = s.reassembler.partialCount
        fuzzCheck(held >= 0 && held <= s.settings.maxTotalBytes, "\(held) bytes held, bound \(s.settings.maxTotalBytes)")
        fuzzCheck((held == 0) == (partials == 0), "\(held) bytes held by \(partials) partials")
        fuzzCheck(
            partials <= s.sessionsUsed.count * s.settings.maxStreamsPerSource,
            "\(partials) partials from \(s.sessionsUsed.count) peers")
    }
}
