/// Bounded reassembly of fragmented envelopes.
///
/// Pieces of one envelope combine whatever node sent them (its origin, a bridge, a repair): a partial envelope is
/// keyed by its stream (the first 8 bytes of its ID), and the assembled bytes must hash to an ID with that prefix
/// (checked by `MeshNode`), so a wrong piece costs the partial, never a wrong envelope.
///
/// Bounds, all charged to the source address that sent each piece (``PeerAddress/source``: what a forger cannot
/// choose freely, unlike sessions and streams), and all by the bytes actually received, never by the size a first
/// fragment declares: at most `maxStreamsPerSource` partial envelopes opened by one source, `maxBytesPerSource`
/// bytes of pieces from one source, `maxTotalBytes` from all, `maxPiecesPerStream` pieces (fragments and
/// parities) per envelope, and `timeoutMillis` per partial envelope. A piece beyond its source's bounds is dropped
/// and counted. When all sources together reach `maxTotalBytes`, a piece from a source holding less than its fair
/// share evicts the oldest partial of the source holding the most: a flood from one source cannot push out the
/// work of others, nor block it. A wrong piece costs only the partial it was sent into.
public struct Reassembler: Sendable {
    public struct Settings: Sendable, Equatable {
        /// 16: partials wait up to 20 s for a repair, so a sender of many long messages on a lossy LAN has
        /// several in flight at each receiver.
        public var maxStreamsPerSource = 16
        public var maxTotalBytes = 2 * 1024 * 1024
        /// A quarter of the total: sixteen long messages of the largest size from one host.
        public var maxBytesPerSource = 512 * 1024
        public var maxPiecesPerStream = 64
        /// Long enough for a partial to wait for the repair round after the one it was started in: a repair
        /// then sends the few parities it lacks instead of the whole envelope.
        public var timeoutMillis: Int64 = 20_000
        public init() {}
    }

    struct Partial {
        let total: Int
        /// The source whose piece opened it (for the per-source bound on partials).
        let openedBy: String
        /// Bytes of its pieces, by the source that sent them.
        var charges: [String: Int] = [:]
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
    private var streamsPerSource: [String: Int] = [:]
    private var bytesPerSource: [String: Int] = [:]
    private(set) var bytesHeld = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var partialCount: Int { partials.count }

    /// Whether a partial envelope is waiting for more pieces of this stream.
    public func isPending(_ stream: UInt64) -> Bool { partials[stream] != nil }

    public mutating func add(
        source: String, stream: UInt64, offset: UInt32, total: UInt32, chunk: [UInt8], now: Int64
    ) -> Outcome {
        addPiece(
            source: source, stream: stream, total: total, bytes: chunk.count, now: now,
            isNew: { $0.pieces[offset] == nil }
        ) {
            $0.pieces[offset] = chunk
            $0.received += chunk.count
        }
    }

    /// A parity of a stream: with m of them, any m missing chunks are rebuilt.
    public mutating func addParity(
        source: String, stream: UInt64, total: UInt32, index: UInt8, parity: [UInt8], now: Int64
    ) -> Outcome {
        addPiece(
            source: source, stream: stream, total: total, bytes: parity.count, now: now,
            isNew: { $0.parities[index] == nil }
        ) {
            $0.parities[index] = parity
        }
    }

    /// Opens the stream's partial if needed; a duplicate piece changes nothing; a new one within the bounds is
    /// inserted, charged to its source, and the partial settled.
    private mutating func addPiece(
        source: String, stream: UInt64, total: UInt32, bytes: Int, now: Int64, isNew: (Partial) -> Bool,
        insert: (inout Partial) -> Void
    ) -> Outcome {
        if let p = partials[stream] {
            guard p.total == Int(total) else { return .dropped("fragment_inconsistent") }
            guard isNew(p) else { return .pending }
            guard p.pieceCount < settings.maxPiecesPerStream else {
                remove(stream)
                return .dropped("fragment_too_many_pieces")
            }
        } else {
            guard Int(total) > 0, Int(total) <= Envelope.maxEncodedBytes else { return .dropped("fragment_total") }
            guard streamsPerSource[source, default: 0] < settings.maxStreamsPerSource else {
                return .dropped("reassembly_source_limit")
            }
        }
        if let refused = makeRoom(bytes, for: source, keeping: stream) { return refused }
        var p = partials[stream] ?? Partial(total: Int(total), openedBy: source, startedAt: now)
        if partials[stream] == nil { streamsPerSource[source, default: 0] += 1 }
        insert(&p)
        p.charges[source, default: 0] += bytes
        bytesPerSource[source, default: 0] += bytes
        bytesHeld += bytes
        partials[stream] = p
        return settle(stream, p)
    }

    /// Room for `bytes` more from `source`: within its own bound, and within the total, evicting the oldest
    /// partial of the heaviest source when `source` holds less than a fair share. Returns why not if there is none.
    private mutating func makeRoom(_ bytes: Int, for source: String, keeping stream: UInt64) -> Outcome? {
        let mine = bytesPerSource[source, default: 0]
        guard mine + bytes <= settings.maxBytesPerSource else { return .dropped("reassembly_source_memory") }
        while bytesHeld + bytes > settings.maxTotalBytes {
            let fairShare = settings.maxTotalBytes / max(1, bytesPerSource.count + (mine == 0 ? 1 : 0))
            guard mine + bytes <= fairShare,
                let heavy = bytesPerSource.max(by: { ($0.value, $0.key) < ($1.value, $1.key) }),
                heavy.key != source, heavy.value > mine + bytes,
                let victim = partials.filter({ $0.key != stream && $0.value.charges[heavy.key] != nil })
                    .min(by: { ($0.value.startedAt, $0.key) < ($1.value.startedAt, $1.key) })?.key
            else { return .dropped("reassembly_memory_limit") }
            remove(victim)
            evicted += 1
        }
        return nil
    }

    /// Partials evicted to make room for a lighter source (see `makeRoom`).
    public private(set) var evicted = 0

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
        for (source, bytes) in p.charges {
            bytesHeld -= bytes
            let left = bytesPerSource[source, default: bytes] - bytes
            bytesPerSource[source] = left > 0 ? left : nil
        }
        let n = streamsPerSource[p.openedBy, default: 1] - 1
        streamsPerSource[p.openedBy] = n > 0 ? n : nil
    }
}
