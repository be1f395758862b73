import Testing

@testable import EstafetteCore

/// The HMAC and HKDF built by hand on BLAKE2b. The published vectors check them end to end; these tests pin
/// down the definitions themselves (RFC 2104 on a 128-byte block, Noise §4.3) so a failure points here.
@Suite("Noise HMAC-BLAKE2b and HKDF")
struct NoiseCryptoTests {
    /// RFC 2104 written a second way, on the project's BLAKE2b wrapper.
    static func referenceHMAC(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var k = key.count > 128 ? Sodium.blake2b(key, length: 64) : key
        k += [UInt8](repeating: 0, count: 128 - k.count)
        let inner = Sodium.blake2b(k.map { $0 ^ 0x36 } + data, length: 64)
        return Sodium.blake2b(k.map { $0 ^ 0x5c } + inner, length: 64)
    }

    /// Known answers from Python's standard library, an independent HMAC:
    /// `hmac.new(bytes(range(n)), b"the quick brown fox", hashlib.blake2b).hexdigest()` for n = 0, 64, 200.
    @Test func hmacMatchesPythonsHMACBLAKE2b() {
        let data = Array("the quick brown fox".utf8)
        let known: [(Int, String)] = [
            (
                0,
                "6f71df37be71b1a8f17d487243d2ce9c4915cb35567d4df88f92042d22c8a42f"
                    + "c97349f30a906c8cbcf760084ce62d7cbade9623b53ded67e79c6699efd920c4"
            ),
            (
                64,
                "5c919b823da5f5adb07eae88f26ca59f0423e0311d919137d995d690e9d48103"
                    + "fd6e457ae10700037280aa5b5c5d5a0b1b91d7b26c788695fd791be76cd546cb"
            ),
            (
                200,
                "705db61fd2662c016faa113136933fd668165c4b60ec48e8500a84973efbb624"
                    + "ce980391c93b2adc0706641b58b5849ed14340af519d21017cfb569730cf04f8"
            ),
        ]
        for (n, mac) in known {
            let key = (0..<n).map { UInt8($0) }
            #expect(NoiseCrypto.hmac(key: key, data: data) == hexBytes(mac), "key of \(n) bytes")
        }
    }

    @Test(arguments: [0, 1, 32, 64, 127, 128, 129, 300])
    func hmacMatchesRFC2104(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let data = Array("the quick brown fox".utf8)
        let mac = NoiseCrypto.hmac(key: key, data: data)
        #expect(mac.count == 64)
        #expect(mac == Self.referenceHMAC(key: key, data: data))
    }

    @Test func hmacIsNotKeyedBLAKE2b() {
        let key = [UInt8](repeating: 3, count: 32)
        let data: [UInt8] = [1, 2, 3]
        #expect(NoiseCrypto.hmac(key: key, data: data) != Sodium.blake2b(data, length: 64, key: key))
    }

    @Test func hkdfChainsItsOutputs() {
        let ck = (0..<64).map { UInt8($0) }
        let ikm: [UInt8] = [9, 9, 9]
        let out = NoiseCrypto.hkdf(chainingKey: ck, inputKeyMaterial: ikm, outputs: 3)
        let temp = Self.referenceHMAC(key: ck, data: ikm)
        let o1 = Self.referenceHMAC(key: temp, data: [1])
        let o2 = Self.referenceHMAC(key: temp, data: o1 + [2])
        let o3 = Self.referenceHMAC(key: temp, data: o2 + [3])
        #expect(out == [o1, o2, o3])
        #expect(NoiseCrypto.hkdf(chainingKey: ck, inputKeyMaterial: ikm, outputs: 2) == [o1, o2])
    }

    @Test func dhRejectsSmallOrderPublicKeys() throws {
        let secret = NoiseKeyPair.generate().secretKey
        #expect(throws: NoiseError.invalidPublicKey) { try NoiseCrypto.dh(secret, [UInt8](repeating: 0, count: 32)) }
        // 1 is a point of small order too: the result is all zero.
        #expect(throws: NoiseError.invalidPublicKey) {
            try NoiseCrypto.dh(secret, [1] + [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: NoiseError.invalidKeyLength(31)) {
            try NoiseCrypto.dh(secret, [UInt8](repeating: 9, count: 31))
        }
    }

    @Test func dhAgreesBothWays() throws {
        let a = NoiseKeyPair.generate()
        let b = NoiseKeyPair.generate()
        #expect(try NoiseCrypto.dh(a.secretKey, b.publicKey) == NoiseCrypto.dh(b.secretKey, a.publicKey))
    }

    @Test func relayStaticKeyIsTheIdentitysX25519Form() {
        let identity = SigningKeyPair.deterministic(42)
        #expect(NoiseKeyPair(identity: identity).publicKey == identity.boxPublicKey.bytes)
        #expect("\(NoiseKeyPair(identity: identity))".contains("secret: redacted"))
    }
}
