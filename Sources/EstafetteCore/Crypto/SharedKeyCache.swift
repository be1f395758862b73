import CSodium

/// Precomputed `crypto_box` keys, one per pair of identities, so the inner box of a direct message costs no
/// X25519 scalar multiplication after the first message between the same two identities.
///
/// `crypto_box_beforenm(peer_x25519_pk, my_x25519_sk)` is the same for every message between a pair; the boxes
/// made with it (`crypto_box_easy_afternm`) are byte for byte those of `crypto_box_easy`, so the wire format does
/// not change. The keys are secrets: they live in one guarded region (`SecretBytes`: guard pages, canary, mlock),
/// `capacity` slots of 32 bytes. When the cache is full, the clock algorithm (second chance, an approximation of
/// least recently used) picks a slot to reuse, and the evicted key is wiped before the slot is rewritten. The
/// whole region is wiped and freed when the cache goes away. A capacity of 0 precomputes nothing: every box then
/// pays its scalar multiplication (for one-off calls, where a guarded region would cost more than it saves).
///
/// A value type with copy-on-write storage: copies never share a writable region.
public struct SharedKeyCache: Sendable {
    public static let defaultCapacity = 256
    static let keyBytes = 32

    public let capacity: Int
    private var storage: Storage?

    public init(capacity: Int = Self.defaultCapacity) {
        precondition(capacity >= 0, "SharedKeyCache capacity \(capacity) is negative")
        self.capacity = capacity
    }

    /// Pairs whose key is held now (never more than `capacity`).
    public var count: Int { storage?.slotOf.count ?? 0 }

    /// Pairs computed since the cache was made (misses), for tests and counters.
    public var computed: Int { storage?.computed ?? 0 }

    /// `crypto_box_easy` from `me` to `peer`, with the pair's precomputed key.
    public mutating func box(
        _ plaintext: [UInt8], nonce: [UInt8], from me: SigningKeyPair, to peer: BoxPublicKey
    ) throws(CryptoError) -> [UInt8] {
        guard nonce.count == crypto_box_noncebytes() else { throw .invalidKeyLength }
        guard capacity > 0 else { return try me.box(plaintext, nonce: nonce, to: peer) }
        let macBytes = crypto_box_macbytes()
        var out = [UInt8](repeating: 0, count: plaintext.count + macBytes)
        let rc = try withKey(mine: me, peer: peer) { k in
            crypto_box_easy_afternm(&out, plaintext, UInt64(plaintext.count), nonce, k)
        }
        guard rc == 0 else { throw .invalidPublicKey }
        return out
    }

    /// Opens a `crypto_box_easy` box from `peer` to `me`, with the pair's precomputed key.
    public mutating func openBox(
        _ ciphertext: [UInt8], nonce: [UInt8], from peer: BoxPublicKey, to me: SigningKeyPair
    ) throws(CryptoError) -> [UInt8] {
        let macBytes = crypto_box_macbytes()
        guard nonce.count == crypto_box_noncebytes(), ciphertext.count >= macBytes else { throw .decryptionFailed }
        guard capacity > 0 else { return try me.openBox(ciphertext, nonce: nonce, from: peer) }
        var out = [UInt8](repeating: 0, count: ciphertext.count - macBytes)
        let rc: Int32
        do {
            rc = try withKey(mine: me, peer: peer) { k in
                crypto_box_open_easy_afternm(&out, ciphertext, UInt64(ciphertext.count), nonce, k)
            }
        } catch {
            throw .decryptionFailed  // a degenerate sender key: nothing it boxed can be genuine
        }
        guard rc == 0 else { throw .decryptionFailed }
        return out
    }

    /// Calls `body` with the pair's 32-byte key, computing it into a slot first when it is not held.
    private mutating func withKey(
        mine me: SigningKeyPair, peer: BoxPublicKey, _ body: (UnsafePointer<UInt8>) -> Int32
    ) throws(CryptoError) -> Int32 {
        if storage == nil {
            storage = Storage(capacity: capacity)
        } else if !isKnownUniquelyReferenced(&storage) {
            storage = storage!.copy()
        }
        let s = storage!
        let pair = Pair(mine: me.boxPublicKey.bytes, peer: peer.bytes)
        let slot: Int
        if let held = s.slotOf[pair] {
            s.referenced[held] = true
            slot = held
        } else {
            slot = s.freeSlot()
            let rc = s.slab.withUnsafeMutableBytes { p in
                me.precomputeSharedKey(with: peer, into: p.baseAddress! + slot * Self.keyBytes)
            }
            guard rc == 0 else {
                s.slab.wipe(slot * Self.keyBytes..<(slot + 1) * Self.keyBytes)
                throw .invalidPublicKey
            }
            s.occupy(slot, with: pair)
        }
        return s.slab.withUnsafeBytes { p in
            body((p.baseAddress! + slot * Self.keyBytes).assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The X25519 public keys of both ends: keys made with another identity of ours never match.
    struct Pair: Hashable {
        let mine: [UInt8]
        let peer: [UInt8]
    }

    /// The slab and its index. Mutated only through a uniquely referenced `SharedKeyCache`.
    private final class Storage: @unchecked Sendable {
        let slab: SecretBytes
        var slotOf: [Pair: Int] = [:]
        var pairAt: [Pair?]
        var referenced: [Bool]
        var hand = 0
        var computed = 0

        init(capacity: Int) {
            slab = SecretBytes(count: capacity * SharedKeyCache.keyBytes)
            pairAt = Array(repeating: nil, count: capacity)
            referenced = Array(repeating: false, count: capacity)
        }

        func copy() -> Storage {
            let c = Storage(capacity: pairAt.count)
            c.slab.withUnsafeMutableBytes { dst in
                slab.withUnsafeBytes { src in dst.copyMemory(from: src) }
            }
            c.slotOf = slotOf
            c.pairAt = pairAt
            c.referenced = referenced
            c.hand = hand
            c.computed = computed
            return c
        }

        /// An empty slot, or the clock's victim, wiped and unindexed.
        func freeSlot() -> Int {
            if slotOf.count < pairAt.count, let empty = pairAt.firstIndex(where: { $0 == nil }) {
                return empty
            }
            while referenced[hand] {
                referenced[hand] = false
                hand = (hand + 1) % pairAt.count
            }
            let victim = hand
            hand = (hand + 1) % pairAt.count
            if let old = pairAt[victim] { slotOf[old] = nil }
            pairAt[victim] = nil
            slab.wipe(victim * SharedKeyCache.keyBytes..<(victim + 1) * SharedKeyCache.keyBytes)
            return victim
        }

        func occupy(_ slot: Int, with pair: Pair) {
            pairAt[slot] = pair
            slotOf[pair] = slot
            referenced[slot] = true
            computed += 1
        }
    }
}
