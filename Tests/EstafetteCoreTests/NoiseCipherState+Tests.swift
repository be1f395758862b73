import Testing

@testable import EstafetteCore

@Suite("Noise CipherState")
struct NoiseCipherStateTests {
    static func keyed(_ seed: UInt8 = 7) -> NoiseCipherState {
        NoiseCipherState(key: SecretBytes(copying: [UInt8](repeating: seed, count: 32)))
    }

    @Test func withoutKeyBytesPassThrough() throws {
        var c = NoiseCipherState()
        #expect(!c.hasKey)
        #expect(try c.encrypt(ad: [1], [9, 8, 7]) == [9, 8, 7])
        #expect(try c.decrypt(ad: [1], [9, 8, 7]) == [9, 8, 7])
        #expect(c.nonce == 0)
    }

    @Test func nonceIsFourZeroBytesThenLittleEndianCounter() {
        #expect(NoiseCrypto.nonceBytes(0x0102_0304_0506_0708) == [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1])
    }

    @Test func nonceIncrementsOnEachMessageAndKeysTheCiphertext() throws {
        var sender = Self.keyed()
        var receiver = Self.keyed()
        var seen: Set<[UInt8]> = []
        for n in 0..<5 {
            #expect(sender.nonce == UInt64(n))
            let ct = try sender.encrypt(ad: [0xAD], [1, 2, 3])
            #expect(ct.count == 3 + 16)
            seen.insert(ct)
            #expect(try receiver.decrypt(ad: [0xAD], ct) == [1, 2, 3])
            #expect(receiver.nonce == UInt64(n + 1))
        }
        #expect(seen.count == 5, "the same plaintext under five nonces gives five ciphertexts")
    }

    @Test func failedDecryptionIsTypedAndLeavesTheNonce() throws {
        var sender = Self.keyed()
        var receiver = Self.keyed()
        let ct = try sender.encrypt(ad: [], [42, 43])
        for bit in 0..<(ct.count * 8) {
            #expect(throws: NoiseError.decryptionFailed) { try receiver.decrypt(ad: [], flippingBit(bit, of: ct)) }
        }
        #expect(throws: NoiseError.decryptionFailed) { try receiver.decrypt(ad: [1], ct) }
        var otherKey = Self.keyed(8)
        #expect(throws: NoiseError.decryptionFailed) { try otherKey.decrypt(ad: [], ct) }
        #expect(throws: NoiseError.messageTooShort("ciphertext", 15)) {
            try receiver.decrypt(ad: [], Array(ct.prefix(15)))
        }
        #expect(receiver.nonce == 0)
        #expect(try receiver.decrypt(ad: [], ct) == [42, 43])
    }

    @Test func lastNonceIsReservedThenExhausted() throws {
        var sender = Self.keyed()
        var receiver = Self.keyed()
        sender.setNonce(UInt64.max - 1)
        receiver.setNonce(UInt64.max - 1)
        let ct = try sender.encrypt([5])
        #expect(try receiver.decrypt(ct) == [5])
        #expect(sender.nonce == UInt64.max)
        #expect(throws: NoiseError.nonceExhausted) { try sender.encrypt([5]) }
        #expect(throws: NoiseError.nonceExhausted) { try receiver.decrypt(ct) }
        #expect(sender.nonce == UInt64.max)
    }

    @Test func plaintextLimitKeepsMessagesWithin65535Bytes() throws {
        var c = Self.keyed()
        #expect(try c.encrypt([UInt8](repeating: 1, count: 65519)).count == 65535)
        #expect(throws: NoiseError.messageTooLong(65536)) { try c.encrypt([UInt8](repeating: 1, count: 65520)) }
        #expect(throws: NoiseError.messageTooLong(65536)) { try c.decrypt([UInt8](repeating: 1, count: 65536)) }
        #expect(c.nonce == 1)
    }

    @Test func rekeyChangesTheKeyNotTheNonce() throws {
        var a = Self.keyed()
        var b = Self.keyed()
        var plain = Self.keyed()
        _ = try a.encrypt([0])
        _ = try b.decrypt(try plain.encrypt([0]))
        a.rekey()
        b.rekey()
        #expect(a.nonce == 1 && b.nonce == 1)
        let after = try a.encrypt([1, 2])
        #expect(after != (try plain.encrypt([1, 2])), "same nonce, new key: a different ciphertext")
        #expect(try b.decrypt(after) == [1, 2])
        var noKey = NoiseCipherState()
        noKey.rekey()
        #expect(!noKey.hasKey)
    }
}
