import Testing

@testable import EstafetteCore

@Suite("SharedKeyCache")
struct SharedKeyCacheTests {
    static let plain = Array("the inner box of a direct message".utf8)

    @Test("a box made with the precomputed key is byte for byte crypto_box_easy's, and opens both ways")
    func sameAsUncached() throws {
        var cache = SharedKeyCache(capacity: 4)
        let nonce = Sodium.randomBytes(24)
        let uncached = try Fixture.alice.box(Self.plain, nonce: nonce, to: Fixture.bob.boxPublicKey)
        let cached = try cache.box(Self.plain, nonce: nonce, from: Fixture.alice, to: Fixture.bob.boxPublicKey)
        #expect(cached == uncached)
        // Again from the held key (a hit), and opened on Bob's side with and without a cache.
        #expect(try cache.box(Self.plain, nonce: nonce, from: Fixture.alice, to: Fixture.bob.boxPublicKey) == uncached)
        #expect(cache.computed == 1)
        var bobs = SharedKeyCache(capacity: 4)
        #expect(try bobs.openBox(cached, nonce: nonce, from: Fixture.alice.boxPublicKey, to: Fixture.bob) == Self.plain)
        #expect(try Fixture.bob.openBox(cached, nonce: nonce, from: Fixture.alice.boxPublicKey) == Self.plain)
        // Capacity 0 takes the uncached path and agrees too.
        var none = SharedKeyCache(capacity: 0)
        #expect(try none.box(Self.plain, nonce: nonce, from: Fixture.alice, to: Fixture.bob.boxPublicKey) == uncached)
        #expect(none.count == 0)
    }

    @Test("the bound holds: never more pairs than the capacity, however many peers")
    func boundHolds() throws {
        var cache = SharedKeyCache(capacity: 8)
        let nonce = Sodium.randomBytes(24)
        for n in 0..<40 {
            let peer = SigningKeyPair.deterministic(1_000 + UInt64(n)).boxPublicKey
            _ = try cache.box(Self.plain, nonce: nonce, from: Fixture.alice, to: peer)
            #expect(cache.count == min(n + 1, 8))
        }
        #expect(cache.computed == 40)
    }

    @Test("an evicted pair is recomputed and gives the same boxes as before")
    func evictedRecomputed() throws {
        var cache = SharedKeyCache(capacity: 2)
        let nonce = Sodium.randomBytes(24)
        let bob = Fixture.bob.boxPublicKey
        let first = try cache.box(Self.plain, nonce: nonce, from: Fixture.alice, to: bob)
        // Two other peers push Bob out (the clock gives each held pair one second chance, then evicts).
        for n: UInt64 in [7, 8, 9] {
            _ = try cache.box(
                Self.plain, nonce: nonce, from: Fixture.alice, to: SigningKeyPair.deterministic(n).boxPublicKey)
        }
        let computedBefore = cache.computed
        let again = try cache.box(Self.plain, nonce: nonce, from: Fixture.alice, to: bob)
        #expect(cache.computed == computedBefore + 1, "Bob's key was evicted, so it is computed again")
        #expect(again == first)
        #expect(cache.count == 2)
    }

    @Test("a pair used since the last sweep survives a newcomer; one left unused is evicted (clock)")
    func recentlyUsedKept() throws {
        var cache = SharedKeyCache(capacity: 3)
        let nonce = Sodium.randomBytes(24)
        func use(_ n: UInt64) throws {
            _ = try cache.box(
                Self.plain, nonce: nonce, from: Fixture.alice, to: SigningKeyPair.deterministic(100 + n).boxPublicKey)
        }
        for n: UInt64 in [1, 2, 3] { try use(n) }
        try use(4)  // full: the sweep clears every mark and evicts the oldest (1)
        try use(2)  // 2 is marked again
        try use(5)  // evicts 3, unused since the sweep, not 2
        let n = cache.computed
        try use(2)
        #expect(cache.computed == n, "2 was used recently and is still held")
        try use(3)
        #expect(cache.computed == n + 1, "3 was evicted and is computed again")
        #expect(cache.count == 3)
    }

    @Test("keys are per pair: another identity of ours never gets Alice's key")
    func perPair() throws {
        var cache = SharedKeyCache(capacity: 4)
        let nonce = Sodium.randomBytes(24)
        let fromAlice = try cache.box(Self.plain, nonce: nonce, from: Fixture.alice, to: Fixture.bob.boxPublicKey)
        let fromCarol = try cache.box(Self.plain, nonce: nonce, from: Fixture.carol, to: Fixture.bob.boxPublicKey)
        #expect(fromAlice != fromCarol)
        #expect(try Fixture.bob.openBox(fromCarol, nonce: nonce, from: Fixture.carol.boxPublicKey) == Self.plain)
        #expect(cache.count == 2)
    }

    @Test("a tampered box, a wrong sender and a short box fail to open")
    func openFailures() throws {
        var cache = SharedKeyCache(capacity: 4)
        let nonce = Sodium.randomBytes(24)
        let boxed = try Fixture.alice.box(Self.plain, nonce: nonce, to: Fixture.bob.boxPublicKey)
        let alice = Fixture.alice.boxPublicKey
        #expect(throws: CryptoError.decryptionFailed) {
            try cache.openBox(flippingBit(9, of: boxed), nonce: nonce, from: alice, to: Fixture.bob)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try cache.openBox(boxed, nonce: nonce, from: Fixture.mallory.boxPublicKey, to: Fixture.bob)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try cache.openBox(Array(boxed.prefix(15)), nonce: nonce, from: alice, to: Fixture.bob)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try cache.openBox(boxed, nonce: Array(nonce.prefix(23)), from: alice, to: Fixture.bob)
        }
        #expect(try cache.openBox(boxed, nonce: nonce, from: alice, to: Fixture.bob) == Self.plain)  // control
    }

    @Test("a small-order peer key is refused and not cached")
    func degeneratePeer() throws {
        var cache = SharedKeyCache(capacity: 4)
        let zero = BoxPublicKey(unchecked: [UInt8](repeating: 0, count: 32))
        #expect(throws: CryptoError.invalidPublicKey) {
            try cache.box(Self.plain, nonce: Sodium.randomBytes(24), from: Fixture.alice, to: zero)
        }
        #expect(cache.count == 0)
    }

    @Test("a copy of the cache is independent (copy on write)")
    func copyOnWrite() throws {
        var a = SharedKeyCache(capacity: 2)
        let nonce = Sodium.randomBytes(24)
        let expected = try a.box(Self.plain, nonce: nonce, from: Fixture.alice, to: Fixture.bob.boxPublicKey)
        var b = a
        for n: UInt64 in [21, 22, 23] {
            _ = try b.box(
                Self.plain, nonce: nonce, from: Fixture.alice, to: SigningKeyPair.deterministic(n).boxPublicKey)
        }
        let before = a.computed
        #expect(try a.box(Self.plain, nonce: nonce, from: Fixture.alice, to: Fixture.bob.boxPublicKey) == expected)
        #expect(a.computed == before, "the original still holds Bob's key")
    }

    @Test("direct messages through a shared cache open with and without one, both ways")
    func directMessages() throws {
        var alices = KeyCache(capacity: 16, sharedKeyCapacity: 2)
        var bobs = KeyCache(capacity: 16, sharedKeyCapacity: 2)
        for i in 0..<5 {
            let text = "message \(i)"
            let withCache = try DirectMessage.seal(
                text: text, from: Fixture.alice, to: Fixture.bob.publicKey, createdAt: Fixture.nowSeconds,
                expiresAt: Fixture.expiry, keys: &alices)
            let without = try DirectMessage.seal(
                text: text, from: Fixture.alice, to: Fixture.bob.publicKey, createdAt: Fixture.nowSeconds,
                expiresAt: Fixture.expiry)
            for envelope in [withCache, without] {
                let id = EnvelopeID(ofEncoded: envelope.encoded())
                #expect(try DirectMessage.open(envelope, id: id, with: Fixture.bob, keys: &bobs).text == text)
                #expect(try DirectMessage.open(envelope, id: id, with: Fixture.bob).text == text)
            }
        }
        #expect(alices.shared.computed == 1)
        #expect(bobs.shared.computed == 1)
    }
}

@Suite("SecretBytes")
struct SecretBytesTests {
    @Test("starts zeroed, holds what is written, wipes ranges and all")
    func wipe() {
        let s = SecretBytes(copying: Array(1...64))
        #expect(s.count == 64)
        s.wipe(8..<16)
        let bytes = s.exposedCopy()
        #expect(Array(bytes[0..<8]) == Array(1...8))
        #expect(bytes[8..<16].allSatisfy { $0 == 0 })
        #expect(Array(bytes[16...]) == Array(17...64))
        s.wipe()
        #expect(s.exposedCopy().allSatisfy { $0 == 0 })
        #expect(SecretBytes(count: 32).exposedCopy() == [UInt8](repeating: 0, count: 32))
        #expect("\(s)" == "SecretBytes(64 bytes, redacted)")
    }

    @Test("protection can be changed and restored; the bytes survive")
    func protection() throws {
        let s = SecretBytes(copying: [9, 8, 7])
        try s.protect(.noAccess)
        try s.protect(.readOnly)
        #expect(s.exposedCopy() == [9, 8, 7])
        try s.protect(.readWrite)
        s.withUnsafeMutableBytes { $0[0] = 1 }
        #expect(s.exposedCopy() == [1, 8, 7])
        try s.protect(.noAccess)  // released while inaccessible: sodium_free still wipes and frees it
    }
}
