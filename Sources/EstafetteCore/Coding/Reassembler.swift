/// Bounded reassembly of fragmented envelopes.
///
/// Pieces of one envelope combine whatever node sent them (its origin, a bridge, a repair): a partial envelope is
/// keyed by its stream (the first 8 bytes of its ID), and the assembled bytes must hash to an ID with that prefix
/// (checked by `MeshNode`), so a wrong piece costs the partial, never a wrong envelope.
///
/// Bounds: at most `maxStreamsPerPeer` partial envelopes opened by one peer session, `maxTotalBytes` across all
/// peers, `maxPiecesPerStream` pieces (fragments and parities) per envelope, and `timeoutMillis` per partial
/// envelope. A piece that would exceed a bound is dropped and counted; the oldest partial is never evicted for a
/// newcomer (a flood cannot push out honest work in progress), it only times out.
public struct Reassembler: Sendable {
    public struct Settings: Sendable, Equatable {
        /// 16: partials wait up to 20 s for a repair, so a sender of many long messages on a lossy LAN has
        /// several in flight at each receiver.
        public var maxStreamsPerPeer = 16
        public var maxTotalBytes = 2 * 1024 * 1024
        public var maxPiecesPerStream = 64
        /// Long enough for a partial to wait for the repair round after the one it was started in: a repair
        /// then sends the few parities it lacks instead of the whole envelope.
        public var timeoutMillis: Int64 = 20_000
        public init() {}
    }

    struct Partial {
        let total: Int
        /// The session whose piece opened it (for the per-peer bound).
        let openedBy: UInt64
        var pieces: [UInt32: [UInt8]] = [:]
        var received = 0
        let startedAt: Int64
        /// Parities by index, each a combination of all chunks (zero-padded).
        var parities: [UInt8: [UInt8]] = [:]

        var fragmentCount: Int { (total + Packet.maxChunkBytes - 1) / Packet.maxChunkBytes }
        var pieceCount: Int { pieces.count + parities.count }
    }

    public enum Outcome: Equatable, Sendable {
        /// The envelope is complete: its bytes.
        case complete([UInt8])
        /// More fragments are needed.
        case pending
        /// The fragment was dropped for this reason.
        case dropped(String)
    }

    let settings: Settings
    private var partials: [UInt64: Partial] = [:]
    private var streamsPerPeer: [UInt64: Int] = [:]
    private(set) var bytesHeld = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var partialCount: Int { partials.count }

    /// Whether a partial envelope is waiting for more pieces of this stream.
    public func isPending(_ stream: UInt64) -> Bool { partials[stream] != nil }

    public mutating func add(
        session: UInt64, stream: UInt64, offset: UInt32, total: UInt32, chunk: [UInt8], now: Int64
    ) -> Outcome {
        addPiece(session: session, stream: stream, total: total, now: now, isNew: { $0.pieces[offset] == nil }) {
            $0.pieces[offset] = chunk
            $0.received += chunk.count
        }
    }

    /// A parity of a stream: with m of them, any m missing chunks are rebuilt.
    public mutating func addParity(
        session: UInt64, stream: UInt64, total: UInt32, index: UInt8, parity: [UInt8], now: Int64
    ) -> Outcome {
        addPiece(session: session, stream: stream, total: total, now: now, isNew: { $0.parities[index] == nil }) {
            $0.parities[index] = parity
        }
    }

    /// Opens the stream's partial if needed; a duplicate piece changes nothing; a new one within the bounds is
    /// inserted and the partial settled.
    private mutating func addPiece(
        session: UInt64, stream: UInt64, total: UInt32, now: Int64, isNew: (Partial) -> Bool,
        insert: (inout Partial) -> Void
    ) -> Outcome {
        if let refused = open(stream, session: session, total: total, now: now) { return refused }
        var p = partials[stream]!
        guard p.total == Int(total) else { return .dropped("fragment_inconsistent") }
        guard isNew(p) else { return .pending }
        guard p.pieceCount < settings.maxPiecesPerStream else {
            remove(stream)
            return .dropped("fragment_too_many_pieces")
        }
        insert(&p)
        return settle(stream, p)
    }

    /// Starts a partial for a new stream, within the bounds; returns why not if it cannot.
    private mutating func open(_ stream: UInt64, session: UInt64, total: UInt32, now: Int64) -> Outcome? {
        guard partials[stream] == nil else { return nil }
        guard streamsPerPeer[session, default: 0] < settings.maxStreamsPerPeer else {
            return .dropped("reassembly_peer_limit")
        }
        guard bytesHeld + Int(total) <= settings.maxTotalBytes else { return .dropped("reassembly_memory_limit") }
        partials[stream] = Partial(total: Int(total), openedBy: session, startedAt: now)
        streamsPerPeer[session, default: 0] += 1
        bytesHeld += Int(total)
        return nil
    }

    /// Completes the envelope if every chunk is there, or enough parities make up for the missing ones;
    /// otherwise keeps waiting.
    private mutating func settle(_ stream: UInt64, _ partial: Partial) -> Outcome {
        var p = partial
        if p.received < p.total, !p.parities.isEmpty, p.pieceCount >= p.fragmentCount,
            let rebuilt = Self.rebuild(p)
        {
            for (offset, chunk) in rebuilt {
                p.pieces[offset] = chunk
                p.received += chunk.count
            }
        }
        guard p.received >= p.total else {
            partials[stream] = p
            return .pending
        }
        remove(stream)
        // Assemble and check that the pieces tile [0, total) exactly.
        var out: [UInt8] = []
        out.reserveCapacity(p.total)
        for off in p.pieces.keys.sorted() {
            guard Int(off) == out.count else { return .dropped("fragment_overlap") }
            out += p.pieces[off]!
        }
        guard out.count == p.total else { return .dropped("fragment_overlap") }
        return .complete(out)
    }

    /// The missing chunks, solved from the parities, when the chunks present are exactly the Fragmenter's and
    /// the parities determine the rest; nil while they do not.
    static func rebuild(_ p: Partial) -> [(UInt32, [UInt8])]? {
        let size = Packet.maxChunkBytes
        var missing: [UInt64] = []
        for (i, offset) in stride(from: 0, to: p.total, by: size).enumerated() {
            guard let chunk = p.pieces[UInt32(offset)] else {
                missing.append(UInt64(i))
                continue
            }
            guard chunk.count == min(size, p.total - offset) else { return nil }
        }
        guard p.pieces.count + missing.count == p.fragmentCount, missing.count <= p.parities.count else {
            return nil
        }
        // Each parity, less the chunks we hold, is one equation over the missing ones.
        var decoder = CodedDecoder()
        decoder.maxRows = p.parities.count
        var solved: [UInt64: [UInt8]] = [:]
        for (index, parity) in p.parities.sorted(by: { $0.key < $1.key }) {
            var rhs = parity
            for (offset, chunk) in p.pieces {
                let i = Int(offset) / size
                GF256.addScaled(chunk, times: Fragmenter.coefficient(parity: index, fragment: i), into: &rhs)
            }
            var unknowns: [UInt64: UInt8] = [:]
            for i in missing { unknowns[i] = Fragmenter.coefficient(parity: index, fragment: Int(i)) }
            if case .added(let s) = decoder.add(unknowns, payload: rhs, now: 0) {
                for x in s { solved[x.prefix] = x.bytes }
            }
        }
        guard solved.count == missing.count else { return nil }
        return missing.map { i in
            let offset = Int(i) * size
            return (UInt32(offset), Array(solved[i]!.prefix(min(size, p.total - offset))))
        }
    }

    /// Drops partial envelopes older than the timeout; returns how many.
    public mutating func expire(now: Int64) -> Int {
        let old = partials.filter { now - $0.value.startedAt >= settings.timeoutMillis }.map(\.key)
        for k in old { remove(k) }
        return old.count
    }

    private mutating func remove(_ stream: UInt64) {
        guard let p = partials.removeValue(forKey: stream) else { return }
        bytesHeld -= p.total
        let n = streamsPerPeer[p.openedBy, default: 1] - 1
        streamsPerPeer[p.openedBy] = n > 0 ? n : nil
    }
}
