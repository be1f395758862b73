/// The unexpired envelopes a node holds: each ID with its expiry, found by ID or by its 8-byte prefix (the first
/// word, which inventories, wants and fragment streams name).
///
/// One hash table keyed by the prefix, whose value is the ID's other 24 bytes and the expiry: 8 + 32 bytes a slot,
/// half of an `[EnvelopeID: UInt64]` beside a `[UInt64: EnvelopeID]` (a relay holding a week of a city's traffic,
/// 1,000,000 envelopes, keeps its index in about 84 MB instead of 168 MB; docs/benchmarks.md, `relay-scale`).
///
/// Two IDs that share a prefix cannot both be held: the second is refused (``insert(_:expiresAt:)`` says
/// `.prefixTaken`, and the node drops the envelope as `prefix_collision`). Prefixes are the first 64 bits of a
/// BLAKE2b-256 hash: two honest envelopes collide with probability about n²/2⁶⁵ (10⁻⁷ at a million), and a forger
/// who wants to shadow someone else's envelope would need its ID before it exists and 2⁶⁴ hashes; colliding two
/// of his own (2³² hashes) only costs him one of them.
public struct EnvelopeIndex: Sendable {
    /// The ID's last three words and the expiry (Unix seconds; `UInt32` lasts until 2106, and no envelope lives
    /// beyond now + 7 days).
    struct Rest: Sendable, Equatable {
        var w1: UInt64
        var w2: UInt64
        var w3: UInt64
        var expiresAt: UInt32
    }

    private var table: [UInt64: Rest] = [:]

    public enum Insertion: Sendable, Equatable {
        case inserted
        /// The same ID is held already.
        case present
        /// Another ID with the same prefix is held.
        case prefixTaken
    }

    public init() {}

    public var count: Int { table.count }

    public mutating func reserveCapacity(_ n: Int) { table.reserveCapacity(n) }

    public func contains(_ id: EnvelopeID) -> Bool {
        guard let r = table[id.w0] else { return false }
        return r.w1 == id.w1 && r.w2 == id.w2 && r.w3 == id.w3
    }

    /// The expiry of a held ID.
    public func expiry(of id: EnvelopeID) -> UInt64? {
        guard let r = table[id.w0], r.w1 == id.w1, r.w2 == id.w2, r.w3 == id.w3 else { return nil }
        return UInt64(r.expiresAt)
    }

    /// The held ID with this prefix.
    public func id(prefix: UInt64) -> EnvelopeID? {
        table[prefix].map { EnvelopeID(w0: prefix, w1: $0.w1, w2: $0.w2, w3: $0.w3) }
    }

    public func hasPrefix(_ prefix: UInt64) -> Bool { table[prefix] != nil }

    @discardableResult
    public mutating func insert(_ id: EnvelopeID, expiresAt: UInt64) -> Insertion {
        if let r = table[id.w0] {
            return r.w1 == id.w1 && r.w2 == id.w2 && r.w3 == id.w3 ? .present : .prefixTaken
        }
        table[id.w0] = Rest(w1: id.w1, w2: id.w2, w3: id.w3, expiresAt: UInt32(clamping: expiresAt))
        return .inserted
    }

    /// Removes a held ID; false when it was not held.
    @discardableResult
    public mutating func remove(_ id: EnvelopeID) -> Bool {
        guard contains(id) else { return false }
        table[id.w0] = nil
        return true
    }

    /// The IDs that expire at or before `nowSec`.
    public func expired(atOrBefore nowSec: UInt64) -> [EnvelopeID] {
        var out: [EnvelopeID] = []
        for (p, r) in table where UInt64(r.expiresAt) <= nowSec {
            out.append(EnvelopeID(w0: p, w1: r.w1, w2: r.w2, w3: r.w3))
        }
        return out
    }

    /// Calls `body` with every held ID and its expiry, in no order.
    public func forEach(_ body: (EnvelopeID, UInt64) -> Void) {
        for (p, r) in table { body(EnvelopeID(w0: p, w1: r.w1, w2: r.w2, w3: r.w3), UInt64(r.expiresAt)) }
    }

    /// Every held prefix, in ascending order.
    public func sortedPrefixes() -> [UInt64] { table.keys.sorted() }
}
