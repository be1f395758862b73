import Testing

@testable import EstafetteCore

@Suite("Sodium wrappers")
struct SodiumTests {
    @Test("padding rounds up to the block and always adds a byte; unpadding inverts it")
    func padding() throws {
        for length in [0, 1, 100, 255, 256, 300] {
            let input = [UInt8](repeating: 0xAB, count: length)
            let padded = Sodium.pad(input, blockSize: 256)
            #expect(padded.count == (length / 256 + 1) * 256)
            #expect(padded[length] == 0x80)
            #expect(try #require(Sodium.unpad(padded, blockSize: 256)) == input)
        }
    }

    @Test("malformed padding is refused")
    func badPadding() {
        #expect(Sodium.unpad([], blockSize: 16) == nil)
        #expect(Sodium.unpad([UInt8](repeating: 0, count: 16), blockSize: 16) == nil)  // no 0x80 marker
        #expect(Sodium.unpad([UInt8](repeating: 0x80, count: 15), blockSize: 16) == nil)  // not a whole block
        #expect(Sodium.unpad([1] + [UInt8](repeating: 0, count: 14) + [1], blockSize: 16) == nil)
    }

    @Test("BLAKE2b is keyed and sized as asked")
    func blake2b() {
        let plain = Sodium.blake2b([1, 2, 3])
        #expect(plain.count == 32)
        #expect(Sodium.blake2b([1, 2, 3], length: 16).count == 16)
        #expect(Sodium.blake2b([1, 2, 3], key: [9]) != plain)
        #expect(Sodium.blake2b([1, 2, 4]) != plain)
        // RFC 7693 Appendix A: BLAKE2b-512("abc").
        #expect(
            Sodium.blake2b(Array("abc".utf8), length: 64)
                == hexBytes(
                    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                        + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"))
    }

    @Test("constant-time comparison")
    func compare() {
        #expect(Sodium.constantTimeEqual([1, 2], [1, 2]))
        #expect(!Sodium.constantTimeEqual([1, 2], [1, 3]))
        #expect(!Sodium.constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(Sodium.constantTimeEqual([], []))
    }
}
