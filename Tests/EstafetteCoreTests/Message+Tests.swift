import Testing

@testable import EstafetteCore

@Suite("Message support")
struct MessageTests {
    @Test("ByteReader reads big-endian fields and never reads past the end")
    func byteReader() {
        var r = ByteReader([0, 0, 0, 0, 0, 0, 1, 2, 0xAB, 0xCD, 7])
        #expect(r.readU64() == 0x0102)
        #expect(r.readU16() == 0xABCD)
        #expect(r.remaining == 1)
        #expect(r.readU64() == nil)
        #expect(r.readU16() == nil)
        #expect(r.remaining == 1)  // a failed read consumes nothing
        #expect(r.read(-1) == nil)
        #expect(r.readU8() == 7)
        #expect(r.readU8() == nil)
        #expect(r.rest() == [])
    }

    @Test("big-endian appends match the reader")
    func appendBE() {
        var bytes: [UInt8] = []
        bytes.appendBE(UInt64(0x0102_0304_0506_0708))
        bytes.appendBE(UInt32(0x0A0B_0C0D))
        bytes.appendBE(UInt16(0xEEFF))
        #expect(bytes == [1, 2, 3, 4, 5, 6, 7, 8, 0x0A, 0x0B, 0x0C, 0x0D, 0xEE, 0xFF])
    }

    @Test("message errors have distinct, stable counter names")
    func reasons() {
        let errors: [MessageError] = [
            .textTooLong(1), .notForUs, .malformed("x"), .badPadding, .forgedSender, .expiryMismatch, .badSignature,
            .invalidKey, .notUTF8, .wrongKind,
        ]
        let reasons = errors.map(\.reason)
        #expect(Set(reasons).count == errors.count)
        #expect(MessageError.forgedSender.reason == "forged_sender")
        #expect(MessageError.expiryMismatch.reason == "expiry_mismatch")
        #expect(MessageError.malformed("x") != MessageError.malformed("y"))
    }
}
