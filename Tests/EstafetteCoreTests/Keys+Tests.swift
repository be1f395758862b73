import Testing

@testable import EstafetteCore

/// Points of small order (1, 2, 4, 8) and non-canonical encodings of them: libsodium's Ed25519 blocklist.
let smallOrderPoints: [(String, [UInt8])] = [
    ("all zero (order 4)", [UInt8](repeating: 0, count: 32)),
    ("identity (order 1)", [1] + [UInt8](repeating: 0, count: 31)),
    ("identity with the sign bit", [1] + [UInt8](repeating: 0, count: 30) + [0x80]),
    ("p-1 (order 2)", [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]),
    ("order 8, c717…037a", hexBytes("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")),
    ("order 8, c717…03fa", hexBytes("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")),
    ("order 8, 26e8…fc05", hexBytes("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")),
    ("order 8, 26e8…fc85", hexBytes("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")),
    ("p, non-canonical zero", [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]),
    ("p+1, non-canonical one", [0xEE] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]),
]

@Suite("Keys")
struct KeysTests {
    @Test("small-order and degenerate public keys are refused", arguments: smallOrderPoints.map(\.0))
    func smallOrderRefused(name: String) {
        let bytes = smallOrderPoints.first { $0.0 == name }!.1
        #expect(bytes.count == 32)
        #expect(throws: CryptoError.invalidPublicKey) { try SigningPublicKey(validating: bytes) }
    }

    @Test("a real public key validates; wrong lengths are refused")
    func validation() throws {
        let pk = Fixture.alice.publicKey.bytes
        #expect(try SigningPublicKey(validating: pk) == Fixture.alice.publicKey)
        #expect(throws: CryptoError.invalidKeyLength) { try SigningPublicKey(validating: Array(pk.dropLast())) }
        #expect(throws: CryptoError.invalidKeyLength) { try SigningPublicKey(validating: pk + [0]) }
        #expect(throws: CryptoError.invalidKeyLength) { try SigningPublicKey(validating: []) }
    }

    @Test("deterministic keys are stable per seed and distinct between seeds")
    func deterministic() throws {
        #expect(SigningKeyPair.deterministic(1).publicKey == Fixture.alice.publicKey)
        #expect(SigningKeyPair.deterministic(1).boxPublicKey == Fixture.alice.boxPublicKey)
        let keys = Set((0..<50).map { SigningKeyPair.deterministic($0).publicKey })
        #expect(keys.count == 50)
        // The exported seed re-derives the same pair.
        let again = try SigningKeyPair(seed: SecretBytes(copying: Fixture.alice.exportSeed()))
        #expect(again.publicKey == Fixture.alice.publicKey)
        #expect(throws: CryptoError.invalidKeyLength) { try SigningKeyPair(seed: SecretBytes(count: 31)) }
    }

    @Test("signatures verify only for their key and message")
    func signatures() {
        let message = Array("the quick brown fox".utf8)
        let signature = Fixture.alice.sign(message)
        #expect(signature.count == 64)
        #expect(Fixture.alice.publicKey.verify(signature: signature, message: message))
        #expect(!Fixture.bob.publicKey.verify(signature: signature, message: message))
        #expect(!Fixture.alice.publicKey.verify(signature: signature, message: message + [0]))
        #expect(!Fixture.alice.publicKey.verify(signature: Array(signature.dropLast()), message: message))
        for bit in stride(from: 0, to: 512, by: 7) {
            #expect(!Fixture.alice.publicKey.verify(signature: flippingBit(bit, of: signature), message: message))
        }
    }

    @Test("a box opens only for its recipient, from its sender, with its nonce")
    func boxes() throws {
        let nonce = [UInt8](repeating: 9, count: 24)
        let plain = Array("boxed".utf8)
        let boxed = try Fixture.alice.box(plain, nonce: nonce, to: Fixture.bob.boxPublicKey)
        #expect(try Fixture.bob.openBox(boxed, nonce: nonce, from: Fixture.alice.boxPublicKey) == plain)
        #expect(throws: CryptoError.decryptionFailed) {
            try Fixture.carol.openBox(boxed, nonce: nonce, from: Fixture.alice.boxPublicKey)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try Fixture.bob.openBox(boxed, nonce: nonce, from: Fixture.mallory.boxPublicKey)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try Fixture.bob.openBox(boxed, nonce: [UInt8](repeating: 8, count: 24), from: Fixture.alice.boxPublicKey)
        }
        #expect(throws: CryptoError.decryptionFailed) {
            try Fixture.bob.openBox([1, 2, 3], nonce: nonce, from: Fixture.alice.boxPublicKey)
        }
    }

    @Test("a sealed box opens only for its recipient")
    func sealedBoxes() throws {
        let plain = Array("sealed".utf8)
        let sealed = try SealedBox.seal(plain, to: Fixture.bob.boxPublicKey)
        #expect(sealed.count == plain.count + SealedBox.overhead)
        #expect(try Fixture.bob.openSealed(sealed) == plain)
        #expect(throws: CryptoError.decryptionFailed) { try Fixture.carol.openSealed(sealed) }
        #expect(throws: CryptoError.decryptionFailed) { try Fixture.bob.openSealed(Array(sealed.prefix(10))) }
    }

    @Test("AEAD opens only with the same nonce and associated data")
    func aead() throws {
        let key = try AEADKey(key: SecretBytes(copying: [UInt8](repeating: 3, count: 32)))
        let nonce = [UInt8](repeating: 1, count: AEADKey.nonceBytes)
        let sealed = key.seal([1, 2, 3], nonce: nonce, ad: [7])
        #expect(try key.open(sealed, nonce: nonce, ad: [7]) == [1, 2, 3])
        #expect(throws: CryptoError.decryptionFailed) { try key.open(sealed, nonce: nonce, ad: [8]) }
        #expect(throws: CryptoError.decryptionFailed) {
            try key.open(sealed, nonce: [UInt8](repeating: 2, count: AEADKey.nonceBytes), ad: [7])
        }
        #expect(throws: CryptoError.decryptionFailed) { try key.open(sealed, nonce: Array(nonce.dropLast()), ad: [7]) }
        #expect(throws: CryptoError.invalidKeyLength) { try AEADKey(key: SecretBytes(count: 16)) }
    }
}
