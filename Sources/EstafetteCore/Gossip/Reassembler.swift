/// Bounded reassembly of fragmented envelopes.
///
/// Bounds: at most `maxStreamsPerPeer` partial envelopes per peer session, `maxTotalBytes` across all peers,
/// `maxPiecesPerStream` pieces per envelope, and `timeoutMillis` per partial envelope. A fragment that would
/// exceed a bound is dropped and counted; the oldest partial is never evicted for a newcomer (a flood cannot push
/// out honest work in progress), it only times out.
public struct Reassembler: Sendable {
    public struct Settings: Sendable {
        public var maxStreamsPerPeer = 8
        public var maxTotalBytes = 2 * 1024 * 1024
        public var maxPiecesPerStream = 64
        public var timeoutMillis: Int64 = 10_000
        public init() {}
    }

    struct Key: Hashable {
        let session: UInt64
        let stream: UInt64
    }

    struct Partial {
        let total: Int
        var pieces: [UInt32: [UInt8]] = [:]
        var received = 0
        let startedAt: Int64
        /// The XOR of all chunks (zero-padded), when the parity fragment came.
        var parity: [UInt8]? = nil
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
    private var partials: [Key: Partial] = [:]
    private var streamsPerPeer: [UInt64: Int] = [:]
    private(set) var bytesHeld = 0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var partialCount: Int { partials.count }

    public mutating func add(
        session: UInt64, stream: UInt64, offset: UInt32, total: UInt32, chunk: [UInt8], now: Int64
    ) -> Outcome {
        let key = Key(session: session, stream: stream)
        if let refused = open(key, total: total, now: now) { return refused }
        var p = partials[key]!
        guard p.total == Int(total) else { return .dropped("fragment_inconsistent") }
        if p.pieces[offset] != nil { return .pending }  // duplicate fragment
        guard p.pieces.count < settings.maxPiecesPerStream else {
            remove(key)
            return .dropped("fragment_too_many_pieces")
        }
        p.pieces[offset] = chunk
        p.received += chunk.count
        return settle(key, p)
    }

    /// The parity fragment of a stream: with it, any one missing chunk is rebuilt.
    public mutating func addParity(session: UInt64, stream: UInt64, total: UInt32, parity: [UInt8], now: Int64)
        -> Outcome
    {
        let key = Key(session: session, stream: stream)
        if let refused = open(key, total: total, now: now) { return refused }
        var p = partials[key]!
        guard p.total == Int(total) else { return .dropped("fragment_inconsistent") }
        guard p.parity == nil else { return .pending }
        p.parity = parity
        return settle(key, p)
    }

    /// Starts a partial for a new stream, within the bounds; returns why not if it cannot.
    private mutating func open(_ key: Key, total: UInt32, now: Int64) -> Outcome? {
        guard partials[key] == nil else { return nil }
        guard streamsPerPeer[key.session, default: 0] < settings.maxStreamsPerPeer else {
            return .dropped("reassembly_peer_limit")
        }
        guard bytesHeld + Int(total) <= settings.maxTotalBytes else { return .dropped("reassembly_memory_limit") }
        partials[key] = Partial(total: Int(total), startedAt: now)
        streamsPerPeer[key.session, default: 0] += 1
        bytesHeld += Int(total)
        return nil
    }

    /// Completes the envelope if every chunk is there, or all but one and the parity; otherwise keeps waiting.
    private mutating func settle(_ key: Key, _ partial: Partial) -> Outcome {
        var p = partial
        if p.received < p.total, let parity = p.parity, let (offset, chunk) = Self.rebuild(p, parity: parity) {
            p.pieces[offset] = chunk
            p.received += chunk.count
        }
        guard p.received >= p.total else {
            partials[key] = p
            return .pending
        }
        remove(key)
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

    /// The one missing chunk, from the parity, when the chunks present are exactly the Fragmenter's but one.
    static func rebuild(_ p: Partial, parity: [UInt8]) -> (UInt32, [UInt8])? {
        let size = Packet.maxChunkBytes
        let expected = stride(from: 0, to: p.total, by: size).map { UInt32($0) }
        guard p.pieces.count == expected.count - 1 else { return nil }
        var missing: UInt32? = nil
        for offset in expected {
            guard let chunk = p.pieces[offset] else {
                missing = offset
                continue
            }
            guard chunk.count == min(size, p.total - Int(offset)) else { return nil }
        }
        guard let missing else { return nil }
        var x = parity
        for chunk in p.pieces.values { GF256.addScaled(chunk, times: 1, into: &x) }
        return (missing, Array(x.prefix(min(size, p.total - Int(missing)))))
    }

    /// Drops partial envelopes older than the timeout; returns how many.
    public mutating func expire(now: Int64) -> Int {
        let old = partials.filter { now - $0.value.startedAt >= settings.timeoutMillis }.map(\.key)
        for k in old { remove(k) }
        return old.count
    }

    private mutating func remove(_ key: Key) {
        guard let p = partials.removeValue(forKey: key) else { return }
        bytesHeld -= p.total
        let n = streamsPerPeer[key.session, default: 1] - 1
        streamsPerPeer[key.session] = n > 0 ? n : nil
    }
}

public enum Fragmenter {
    /// The packets that carry an encoded envelope: one when it fits, otherwise fragments.
    public static func packets(for encoded: [UInt8], id: EnvelopeID) -> [Packet] {
        if encoded.count <= Packet.maxPayloadBytes {
            return [.envelope(encoded)]
        }
        var out: [Packet] = []
        var offset = 0
        while offset < encoded.count {
            let end = min(offset + Packet.maxChunkBytes, encoded.count)
            out.append(
                .fragment(
                    stream: id.prefix, offset: UInt32(offset), total: UInt32(encoded.count),
                    chunk: Array(encoded[offset..<end])))
            offset = end
        }
        // One parity fragment: any single lost fragment is rebuilt from the others.
        var parity = [UInt8](repeating: 0, count: Packet.maxChunkBytes)
        for case .fragment(_, _, _, let chunk) in out { GF256.addScaled(chunk, times: 1, into: &parity) }
        out.append(.parity(stream: id.prefix, total: UInt32(encoded.count), chunk: parity))
        return out
    }
}
