import NIOCore
import Testing

@testable import EstafetteCore

@Suite("Envelope codec")
struct EnvelopeTests {
    static let sample = Envelope(
        kind: .direct, expiresAt: 0x0102_0304_0506_0708, tag: [0xAA, 0xBB, 0xCC], body: Array("hello".utf8))

    // MARK: - Round trips

    @Test("round trip for every kind, with and without a tag", arguments: Envelope.Kind.allCases, [0, 1, 16])
    func roundTrip(kind: Envelope.Kind, tagLength: Int) throws {
        let tag = (0..<tagLength).map { UInt8($0 + 0x40) }
        let envelope = Envelope(kind: kind, expiresAt: 1_900_000_000, tag: tag, body: Array("body of \(kind)".utf8))
        let bytes = envelope.encoded()
        #expect(bytes.count == Envelope.headerBytes + tagLength + envelope.body.count)
        #expect(bytes[1] == kind.rawValue)
        #expect(try Envelope(decoding: bytes) == envelope)

        var buffer = ByteBuffer(bytes: bytes)
        #expect(try buffer.readEnvelope() == envelope)
        #expect(buffer.readableBytes == 0)
    }

    @Test("the wire layout matches the diagram byte for byte")
    func layout() {
        let bytes = Self.sample.encoded()
        let expected: [UInt8] =
            [1, 1] + [1, 2, 3, 4, 5, 6, 7, 8] + [3, 0xAA, 0xBB, 0xCC] + [0, 0, 0, 5] + Array("hello".utf8)
        #expect(bytes == expected)
    }

    @Test("an envelope with the largest tag and body round trips")
    func maxSize() throws {
        var rng = SplitMix64(seed: 1)
        let envelope = Envelope(
            kind: .channel, expiresAt: .max, tag: Fixture.bytes(Envelope.maxTagBytes, using: &rng),
            body: Fixture.bytes(Envelope.maxBodyBytes, using: &rng))
        var buffer = ByteBuffer()
        let written = buffer.writeEnvelope(envelope)
        #expect(written == Envelope.maxEncodedBytes)
        #expect(buffer.readableBytes == Envelope.maxEncodedBytes)
        #expect(try buffer.readEnvelope() == envelope)
        #expect(try Envelope(decoding: envelope.encoded()) == envelope)
    }

    @Test("an empty body round trips")
    func emptyBody() throws {
        let envelope = Envelope(kind: .receipt, expiresAt: 0, body: [])
        #expect(try Envelope(decoding: envelope.encoded()) == envelope)
    }

    @Test("drip-feeding one byte at a time yields the envelope exactly when its last byte arrives")
    func dripFeed() throws {
        let first = Self.sample
        let second = Envelope(kind: .alert, expiresAt: 42, body: [9, 8, 7])
        let stream = first.encoded() + second.encoded()
        var buffer = ByteBuffer()
        var decoded: [Envelope] = []
        for (i, byte) in stream.enumerated() {
            buffer.writeInteger(byte)
            if let e = try buffer.readEnvelope() {
                decoded.append(e)
                let boundary = decoded.count == 1 ? first.encoded().count : stream.count
                #expect(i + 1 == boundary)
            }
        }
        #expect(decoded == [first, second])
        #expect(buffer.readableBytes == 0)
    }

    @Test("two envelopes in one buffer read one after the other")
    func backToBack() throws {
        let second = Envelope(kind: .receipt, expiresAt: 7, tag: [1], body: [2])
        var buffer = ByteBuffer(bytes: Self.sample.encoded() + second.encoded())
        #expect(try buffer.readEnvelope() == Self.sample)
        #expect(try buffer.readEnvelope() == second)
        #expect(try buffer.readEnvelope() == nil)
    }

    // MARK: - Rejections

    @Test("every strict prefix needs more bytes, leaves the reader index alone, and fails strict decoding")
    func truncated() throws {
        var rng = SplitMix64(seed: 2)
        let envelopes = [
            Self.sample,
            Envelope(kind: .alert, expiresAt: 1, tag: [], body: Fixture.bytes(300, using: &rng)),
            Envelope(kind: .receipt, expiresAt: 2, tag: Fixture.bytes(16, using: &rng), body: []),
        ]
        for envelope in envelopes {
            let bytes = envelope.encoded()
            for length in 0..<bytes.count {
                let prefix = Array(bytes.prefix(length))
                var buffer = ByteBuffer(bytes: prefix)
                #expect(try buffer.readEnvelope() == nil, "prefix of \(length) bytes")
                #expect(buffer.readerIndex == 0)
                #expect(buffer.readableBytes == length)
                #expect(throws: WireError.truncated("envelope")) { try Envelope(decoding: prefix) }
            }
        }
    }

    @Test("a tag_len over 16 is oversized before any tag byte is read")
    func oversizedTag() {
        for tagLen: UInt8 in [17, 64, 255] {
            let header: [UInt8] = [1, 1] + be(UInt64(1_900_000_000)) + [tagLen]
            var buffer = ByteBuffer(bytes: header)
            #expect(throws: WireError.oversized("tag_len", Int(tagLen))) { try buffer.readEnvelope() }
            #expect(buffer.readerIndex == 0)
            // Even with the claimed bytes present.
            let full = header + [UInt8](repeating: 0, count: Int(tagLen)) + be(UInt32(0))
            #expect(throws: WireError.oversized("tag_len", Int(tagLen))) { try Envelope(decoding: full) }
        }
        // The largest legal tag is fine.
        let ok: [UInt8] = [1, 1] + be(UInt64(1)) + [16] + [UInt8](repeating: 7, count: 16) + be(UInt32(0))
        #expect((try? Envelope(decoding: ok)) != nil)
    }

    @Test("a body_len over maxBodyBytes is oversized before any body byte is read")
    func oversizedBody() throws {
        for bodyLen: UInt32 in [UInt32(Envelope.maxBodyBytes + 1), 1 << 20, .max] {
            let header: [UInt8] = [1, 2] + be(UInt64(1)) + [0] + be(bodyLen)
            var buffer = ByteBuffer(bytes: header)
            #expect(throws: WireError.oversized("body_len", Int(bodyLen))) { try buffer.readEnvelope() }
            #expect(buffer.readerIndex == 0)
        }
        let atLimit: [UInt8] = [1, 2] + be(UInt64(1)) + [0] + be(UInt32(Envelope.maxBodyBytes))
        var buffer = ByteBuffer(bytes: atLimit)
        #expect(try buffer.readEnvelope() == nil)  // legal length: just waiting for the body
    }

    @Test("an unknown version is refused from its first byte", arguments: [UInt8(0), 2, 3, 0x7F, 255])
    func unknownVersion(version: UInt8) {
        var bytes = Self.sample.encoded()
        bytes[0] = version
        #expect(throws: WireError.unknownVersion(version)) { try Envelope(decoding: bytes) }
        var lone = ByteBuffer(bytes: [version])
        #expect(throws: WireError.unknownVersion(version)) { try lone.readEnvelope() }
        #expect(lone.readerIndex == 0)
    }

    @Test("an unknown kind is refused", arguments: [UInt8(0), 5, 6, 200, 255])
    func unknownKind(kind: UInt8) {
        var bytes = Self.sample.encoded()
        bytes[1] = kind
        #expect(throws: WireError.unknownKind(kind)) { try Envelope(decoding: bytes) }
    }

    @Test("trailing bytes after one envelope are refused by strict decoding")
    func trailingBytes() {
        for extra in [[UInt8(0)], [1, 2, 3], Self.sample.encoded()] {
            #expect(throws: WireError.trailingBytes(extra.count)) {
                try Envelope(decoding: Self.sample.encoded() + extra)
            }
        }
    }

    @Test("random garbage never crashes the decoder and is never accepted")
    func garbage() throws {
        var rng = SplitMix64(seed: 0xE57A_FE77E)
        for i in 0..<5_000 {
            var bytes = Fixture.bytes(Int.random(in: 0...120, using: &rng), using: &rng)
            // Half the inputs get a plausible version and kind so the decoder reaches the length fields.
            if i % 2 == 0, bytes.count >= 2 {
                bytes[0] = Envelope.currentVersion
                bytes[1] = UInt8.random(in: 1...4, using: &rng)
            }
            #expect(throws: WireError.self) { try Envelope(decoding: bytes) }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                if try buffer.readEnvelope() == nil { #expect(buffer.readerIndex == 0) }
            } catch {
                #expect(buffer.readerIndex == 0)
            }
        }
    }
}

@Suite("EnvelopeID")
struct EnvelopeIDTests {
    @Test("hex round trips, in either case")
    func hexRoundTrip() throws {
        let id = EnvelopeID(ofEncoded: EnvelopeTests.sample.encoded())
        let hex = id.hex
        #expect(hex.count == 64)
        #expect(hex.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(EnvelopeID(hex: hex) == id)
        #expect(EnvelopeID(hex: hex.uppercased()) == id)
        #expect(id.description == hex)
        #expect(EnvelopeID(bytes: id.bytes) == id)
    }

    @Test("the ID is BLAKE2b-256 of the encoding, and its prefix is the first 8 bytes big-endian")
    func definition() {
        let bytes = EnvelopeTests.sample.encoded()
        let id = EnvelopeID(ofEncoded: bytes)
        let digest = Sodium.blake2b(bytes, length: 32)
        #expect(id.bytes == digest)
        #expect(id.prefix == digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
        // A one-byte change gives another ID.
        #expect(EnvelopeID(ofEncoded: flippingBit(0, of: bytes)) != id)
    }

    @Test("known hex maps to known words")
    func knownHex() throws {
        let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        let id = try #require(EnvelopeID(hex: hex))
        #expect(id.w0 == 0x0001_0203_0405_0607)
        #expect(id.w3 == 0x1819_1A1B_1C1D_1E1F)
        #expect(id.bytes == Array(0...31))
        #expect(id.hex == hex)
    }

    @Test("malformed hex is refused")
    func badHex() {
        let good = String(repeating: "ab", count: 32)
        #expect(EnvelopeID(hex: good) != nil)
        #expect(EnvelopeID(hex: String(good.dropLast())) == nil)
        #expect(EnvelopeID(hex: good + "ab") == nil)
        #expect(EnvelopeID(hex: "") == nil)
        #expect(EnvelopeID(hex: "g" + good.dropFirst()) == nil)
        #expect(EnvelopeID(hex: String(good.dropLast(2)) + " 0") == nil)
        #expect(EnvelopeID(hex: String(repeating: "é", count: 32)) == nil)  // 64 UTF-8 bytes, no hex digits
    }

    @Test("IDs order by their bytes")
    func ordering() throws {
        let low = try #require(EnvelopeID(hex: "00" + String(repeating: "ff", count: 31)))
        let high = try #require(EnvelopeID(hex: "01" + String(repeating: "00", count: 31)))
        #expect(low < high)
        #expect(!(high < low))
        #expect(EnvelopeID.zero < low)
    }
}
