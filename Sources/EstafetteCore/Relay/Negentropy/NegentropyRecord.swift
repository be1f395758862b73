/// One item of a set reconciled with Negentropy: an envelope's `expires_at` and its ID.
///
/// Protocol v1 orders records by timestamp, then by ID bytes (lexically, first differing byte). The timestamp
/// 2^64 − 1 is reserved: it stands for "infinity" in bounds and no record may carry it.
public struct NegentropyRecord: Hashable, Comparable, Sendable {
    public var timestamp: UInt64
    public var id: EnvelopeID

    public init(timestamp: UInt64, id: EnvelopeID) {
        self.timestamp = timestamp
        self.id = id
    }

    @inline(__always)
    public static func < (a: NegentropyRecord, b: NegentropyRecord) -> Bool {
        (a.timestamp, a.id.w0, a.id.w1, a.id.w2, a.id.w3) < (b.timestamp, b.id.w0, b.id.w1, b.id.w2, b.id.w3)
    }
}

/// The exclusive upper end of a range: a timestamp and 0…32 leading bytes of an ID (the rest read as zero).
///
/// A bound compares as the record `(timestamp, prefix ‖ zeros)`. The highest bound, "infinity", has the
/// timestamp 2^64 − 1 and an empty prefix; it ends the last range of every message.
struct NegentropyBound: Hashable, Sendable {
    /// The record this bound compares as (its ID is the prefix padded with zeros).
    var record: NegentropyRecord
    /// How many leading ID bytes the bound carries on the wire (0…32).
    var prefixLength: Int

    static let infinity = NegentropyBound(timestamp: .max)
    static let zero = NegentropyBound(timestamp: 0)

    init(timestamp: UInt64) {
        self.record = NegentropyRecord(timestamp: timestamp, id: .zero)
        self.prefixLength = 0
    }

    /// The bound `(timestamp, prefix)`; `prefix` has at most 32 bytes.
    init(timestamp: UInt64, prefix: some Collection<UInt8>) {
        precondition(prefix.count <= 32, "bound prefix of \(prefix.count) bytes")
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.replaceSubrange(0..<prefix.count, with: prefix)
        self.record = NegentropyRecord(timestamp: timestamp, id: EnvelopeID(bytes: bytes))
        self.prefixLength = prefix.count
    }

    /// The bound that is exactly `record` (all 32 ID bytes).
    init(exactly record: NegentropyRecord) {
        self.record = record
        self.prefixLength = 32
    }

    /// The shortest bound that is above `previous` and at or below `next` (`previous < next`): the timestamp alone
    /// when they differ, else the ID bytes they share plus the first byte that differs.
    static func between(_ previous: NegentropyRecord, _ next: NegentropyRecord) -> NegentropyBound {
        guard previous.timestamp == next.timestamp else { return NegentropyBound(timestamp: next.timestamp) }
        let a = previous.id.bytes
        let b = next.id.bytes
        var shared = 0
        while shared < 32 && a[shared] == b[shared] { shared += 1 }
        return NegentropyBound(timestamp: next.timestamp, prefix: b.prefix(min(shared + 1, 32)))
    }

    /// The prefix bytes sent on the wire.
    var prefix: ArraySlice<UInt8> { record.id.bytes.prefix(prefixLength) }
}
