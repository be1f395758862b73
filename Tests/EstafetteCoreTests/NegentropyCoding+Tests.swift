import Testing

@testable import EstafetteCore

/// Byte-level checks of Negentropy v1: varints, fingerprints and the message codec. The expected bytes were worked
/// out by hand from `docs/negentropy-protocol-v1.md` (fingerprints with Python's hashlib) and checked against the
/// reference C++ harness (hoytech/negentropy test/cpp) when this file was written.
@Suite("Negentropy coding")
struct NegentropyCodingTests {
    // MARK: - Varint

    @Test(
        "varints are base 128, most significant digit first, high bit on every byte but the last",
        arguments: [
            (UInt64(0), "00"), (1, "01"), (127, "7f"), (128, "8100"), (255, "817f"), (16383, "ff7f"),
            (16384, "818000"), (UInt64.max, "81ffffffffffffffff7f"),
        ])
    func varint(value: UInt64, hex: String) throws {
        var out: [UInt8] = []
        NegentropyWriter.appendVarint(value, to: &out)
        #expect(out == hexBytes(hex))
        var reader = NegentropyReader(out)
        #expect(try reader.readVarint("v") == value)
        #expect(reader.isAtEnd)
    }

    @Test("a varint above 64 bits is rejected, not wrapped")
    func varintOverflow() {
        // 2^64 = 0x82 followed by nine 0x80/0x00 digits.
        var reader = NegentropyReader(hexBytes("82808080808080808000"))
        #expect(throws: NegentropyError.varintOverflow) { try reader.readVarint("v") }
    }

    @Test("a varint cut short is truncated")
    func varintTruncated() {
        var reader = NegentropyReader([0x81, 0x80])
        #expect(throws: NegentropyError.truncated("v")) { try reader.readVarint("v") }
    }

    // MARK: - Fingerprints

    static func id(_ bytes: [UInt8]) -> EnvelopeID { EnvelopeID(bytes: bytes) }

    @Test("the fingerprint of no records is SHA-256(32 zero bytes ‖ 0x00), first 16 bytes")
    func emptyFingerprint() {
        #expect(NegentropyAccumulator.zero.fingerprint(count: 0).bytes == hexBytes("7f9c9e31ac8256ca2f258583df262dbc"))
    }

    @Test("IDs add as 256-bit little-endian integers: a carry crosses from the first 8 bytes into the next")
    func carryAcrossWords() {
        var acc = NegentropyAccumulator.zero
        acc.add(Self.id([UInt8](repeating: 0xFF, count: 8) + [UInt8](repeating: 0, count: 24)))
        acc.add(Self.id([1] + [UInt8](repeating: 0, count: 31)))
        #expect(acc.bytes == [UInt8](repeating: 0, count: 8) + [1] + [UInt8](repeating: 0, count: 23))
        #expect(acc.fingerprint(count: 2).bytes == hexBytes("fe77277fdc1349df808b365582fa9199"))
    }

    @Test("the sum wraps modulo 2^256, and the count still tells the fingerprints apart")
    func wrapsModulo() {
        var acc = NegentropyAccumulator.zero
        acc.add(Self.id([1] + [UInt8](repeating: 0, count: 31)))
        acc.add(Self.id([UInt8](repeating: 0xFF, count: 32)))
        #expect(acc == .zero)
        #expect(acc.fingerprint(count: 2).bytes == hexBytes("58cc2f44d3a27866874701fbad573da9"))
        #expect(acc.fingerprint(count: 2) != acc.fingerprint(count: 0))
    }

    @Test("subtracting undoes adding, borrows included")
    func subtract() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let a = Self.id(Fixture.bytes(32, using: &rng))
            let b = Self.id(Fixture.bytes(32, using: &rng))
            var acc = NegentropyAccumulator.zero
            acc.add(a)
            var withB = acc
            withB.add(b)
            withB.subtract(
                NegentropyAccumulator(
                    l0: b.w0.byteSwapped, l1: b.w1.byteSwapped, l2: b.w2.byteSwapped, l3: b.w3.byteSwapped))
            #expect(withB == acc)
        }
    }

    // MARK: - Bounds and messages

    @Test("the shortest bound between two records: the timestamp alone, or the shared ID bytes plus one")
    func minimalBound() {
        let a = NegentropyRecord(timestamp: 5, id: Self.id([0xAA, 0xBB, 0xCC] + [UInt8](repeating: 0, count: 29)))
        let b = NegentropyRecord(timestamp: 5, id: Self.id([0xAA, 0xBB, 0xCD] + [UInt8](repeating: 0, count: 29)))
        let c = NegentropyRecord(timestamp: 6, id: Self.id([UInt8](repeating: 0, count: 32)))
        let ab = NegentropyBound.between(a, b)
        #expect(ab.prefixLength == 3 && Array(ab.prefix) == [0xAA, 0xBB, 0xCD])
        #expect(a < ab.record && !(b < ab.record))
        let bc = NegentropyBound.between(b, c)
        #expect(bc.prefixLength == 0 && bc.record.timestamp == 6)
    }

    @Test("timestamps are 1 + the delta from the previous bound of the message; infinity is 0")
    func boundTimestamps() throws {
        let message = NegentropyMessage(ranges: [
            .init(upperBound: NegentropyBound(timestamp: 1000), payload: .skip),
            .init(upperBound: NegentropyBound(timestamp: 1001, prefix: [0xAB]), payload: .skip),
            .init(upperBound: .infinity, payload: .idList([])),
        ])
        // 61 | 87 69 (1001) 00 | 00 skip | 02 (1 + 1) 01 ab | 00 skip | 00 (infinity) 00 | 02 idList 00 (none)
        let expected = hexBytes("61" + "876900" + "00" + "0201ab" + "00" + "0000" + "02" + "00")
        #expect(message.encoded() == expected)
        #expect(try NegentropyMessage(decoding: expected) == message)
    }

    @Test("a delta that would pass 2^64 − 1 saturates to infinity, as in the reference")
    func saturation() throws {
        // First bound at 2^64 − 2 (varint 2^64 − 1), then a delta of 5 more.
        let bytes = hexBytes("61" + "81ffffffffffffffff7f" + "00" + "00" + "06" + "00" + "00")
        let message = try NegentropyMessage(decoding: bytes)
        #expect(message.ranges.map(\.upperBound.record.timestamp) == [UInt64.max - 1, UInt64.max])
    }

    @Test("another version in 0x60…0x6F decodes with no ranges; anything else is not Negentropy")
    func versions() throws {
        #expect(
            try NegentropyMessage(decoding: hexBytes("62aabbccddeeff")) == NegentropyMessage(version: 0x62, ranges: []))
        #expect(throws: NegentropyError.badVersion(0x70)) { try NegentropyMessage(decoding: [0x70]) }
        #expect(throws: NegentropyError.badVersion(0x00)) { try NegentropyMessage(decoding: [0x00, 0x00]) }
        #expect(throws: NegentropyError.truncated("version")) { try NegentropyMessage(decoding: []) }
    }

    @Test(
        "malformed messages are rejected with a typed error",
        arguments: [
            ("61" + "0021", NegentropyError.badPrefixLength(33)),
            ("61" + "0000" + "03", .badMode(3)),
            ("61" + "0000" + "8100", .badMode(128)),
            ("61" + "0000" + "01" + "00112233", .truncated("fingerprint")),
            ("61" + "0000" + "02" + "02" + String(repeating: "ab", count: 32), .truncated("id list of 2")),
            ("61" + "0000" + "02" + "ffffffffffffffffff7f", .varintOverflow),
            ("61" + "0005" + "0102", .truncated("bound prefix")),
            ("61" + "00", .truncated("bound prefix length")),
            ("61" + "0000", .truncated("mode")),
        ])
    func malformed(hex: String, error: NegentropyError) {
        #expect(throws: error) { try NegentropyMessage(decoding: hexBytes(hex)) }
    }

    @Test("every prefix and every one-bit corruption of a real message decodes or throws, and never traps")
    func corruptions() throws {
        var rng = SplitMix64(seed: 11)
        let records = (0..<300).map { i in
            NegentropyRecord(timestamp: UInt64(1_700_000_000 + i / 3), id: Self.id(Fixture.bytes(32, using: &rng)))
        }
        var a = try NegentropySession(storage: NegentropyStorage(records.prefix(200)), splitting: .reference)
        var b = try NegentropySession(storage: NegentropyStorage(records.suffix(200)), splitting: .reference)
        let first = try a.initiate()
        let reply = try b.respond(to: first)
        let small = try NegentropyStorage(records.suffix(50))
        for message in [first, reply] {
            for n in 0...message.count {
                _ = try? NegentropyMessage(decoding: Array(message.prefix(n)))
            }
            for bit in 0..<(message.count * 8) {
                guard let decoded = try? NegentropyMessage(decoding: flippingBit(bit, of: message)) else { continue }
                // Whatever decodes also re-encodes and is answered without trapping.
                var responder = try NegentropySession(storage: small)
                _ = try? responder.respond(to: decoded.encoded())
            }
        }
    }
}
