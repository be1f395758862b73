/// Remembers validated Ed25519 keys and their X25519 conversions, so a message from or to a known identity
/// does not pay for point validation (~40 µs) and conversion (~48 µs) again. Bounded: when full it is emptied
/// (a flood of new keys costs what it would have cost without a cache, never memory). It also holds the keys
/// precomputed per pair of identities for the inner box of direct messages (`shared`, bounded on its own).
public struct KeyCache: Sendable {
    public struct Entry: Sendable {
        public let key: SigningPublicKey
        public let box: BoxPublicKey
    }

    private var entries: [[UInt8]: Entry] = [:]
    public let capacity: Int
    /// Precomputed box keys between our identity and the identities we exchange direct messages with.
    public var shared: SharedKeyCache

    public init(capacity: Int = 4_096, sharedKeyCapacity: Int = SharedKeyCache.defaultCapacity) {
        self.capacity = capacity
        self.shared = SharedKeyCache(capacity: sharedKeyCapacity)
    }

    public var count: Int { entries.count }

    /// The validated key and its X25519 form; throws for invalid keys (which are not cached).
    public mutating func resolve(_ bytes: [UInt8]) throws(CryptoError) -> Entry {
        if let e = entries[bytes] { return e }
        let key = try SigningPublicKey(validating: bytes)
        let entry = Entry(key: key, box: try key.boxPublicKey())
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[bytes] = entry
        return entry
    }

    public mutating func resolve(_ key: SigningPublicKey) throws(CryptoError) -> Entry {
        try resolve(key.bytes)
    }
}
