import NIOCore

/// A content-addressed, immutable unit of dissemination.
///
/// ```
///  0        1        2                 10       11          11+T               15+T
///  +--------+--------+-----------------+--------+-----------+------------------+----------------+
///  | ver=1  | kind   | expires_at      | tag_len| tag       | body_len         | body           |
///  | u8     | u8     | u64 BE, unix s  | u8 ≤16 | T bytes   | u32 BE ≤ 32832   | body_len bytes |
///  +--------+--------+-----------------+--------+-----------+------------------+----------------+
/// ```
/// `id = BLAKE2b-256(encoded envelope)`. Per-hop data is never part of an envelope.
public struct Envelope: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case direct = 1
        case channel = 2
        case alert = 3
        case receipt = 4
    }

    public static let currentVersion: UInt8 = 1
    public static let maxTagBytes = 16
    public static let maxBodyBytes = 32 * 1024 + 64
    public static let headerBytes = 1 + 1 + 8 + 1 + 4
    public static let maxEncodedBytes = headerBytes + maxTagBytes + maxBodyBytes
    /// Longest lifetime an envelope may ask for: 7 days.
    public static let maxLifetimeSeconds: UInt64 = 7 * 24 * 3600
    /// Clock skew tolerated between nodes when checking `expires_at`.
    public static let clockSkewSeconds: UInt64 = 3600

    public var kind: Kind
    public var expiresAt: UInt64
    public var tag: [UInt8]
    public var body: [UInt8]

    public init(kind: Kind, expiresAt: UInt64, tag: [UInt8] = [], body: [UInt8]) {
        self.kind = kind
        self.expiresAt = expiresAt
        self.tag = tag
        self.body = body
    }

    /// The canonical encoding.
    public func encoded() -> [UInt8] {
        var buf = ByteBuffer()
        buf.reserveCapacity(Self.headerBytes + tag.count + body.count)
        buf.writeEnvelope(self)
        return Array(buf.readableBytesView)
    }

    /// Decodes exactly one envelope occupying all of `bytes`.
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var buf = ByteBuffer(bytes: bytes)
        guard let e = try buf.readEnvelope() else { throw .truncated("envelope") }
        guard buf.readableBytes == 0 else { throw .trailingBytes(buf.readableBytes) }
        self = e
    }

    /// The envelope's header bytes (everything before the body), which signatures cover.
    func headerBytes() -> [UInt8] {
        var buf = ByteBuffer()
        buf.writeInteger(Self.currentVersion)
        buf.writeInteger(kind.rawValue)
        buf.writeInteger(expiresAt)
        buf.writeInteger(UInt8(tag.count))
        buf.writeBytes(tag)
        return Array(buf.readableBytesView)
    }
}

/// The 32-byte BLAKE2b-256 of an encoded envelope, held as four words for compact indexes.
public struct EnvelopeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let w0: UInt64
    public let w1: UInt64
    public let w2: UInt64
    public let w3: UInt64

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "EnvelopeID needs 32 bytes, got \(bytes.count)")
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in bytes[(i * 8)..<(i * 8 + 8)] { v = (v << 8) | UInt64(b) }
            return v
        }
        self.w0 = word(0)
        self.w1 = word(1)
        self.w2 = word(2)
        self.w3 = word(3)
    }

    /// The ID of an encoded envelope.
    public init(ofEncoded bytes: [UInt8]) {
        self.init(bytes: Sodium.blake2b(bytes, length: 32))
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var it = hex.utf8.makeIterator()
        while let hi = it.next(), let lo = it.next() {
            guard let h = Self.nibble(hi), let l = Self.nibble(lo) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            withUnsafeBytes(of: w.bigEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The first 8 bytes, used in inventories and fragment streams.
    public var prefix: UInt64 { w0 }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (a: EnvelopeID, b: EnvelopeID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    static func ^ (a: EnvelopeID, b: EnvelopeID) -> EnvelopeID {
        EnvelopeID(w0: a.w0 ^ b.w0, w1: a.w1 ^ b.w1, w2: a.w2 ^ b.w2, w3: a.w3 ^ b.w3)
    }

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    public static let zero = EnvelopeID(w0: 0, w1: 0, w2: 0, w3: 0)
}

extension ByteBuffer {
    /// Reads one envelope. Returns nil when more bytes are needed; throws on malformed input.
    /// The reader index is unchanged unless an envelope was read.
    public mutating func readEnvelope() throws(WireError) -> Envelope? {
        let saved = self.readerIndex
        do {
            guard let e = try self.readEnvelopeUnwinding() else {
                self.moveReaderIndex(to: saved)
                return nil
            }
            return e
        } catch {
            self.moveReaderIndex(to: saved)
            throw error
        }
    }

    private mutating func readEnvelopeUnwinding() throws(WireError) -> Envelope? {
        guard let version = readInteger(as: UInt8.self) else { return nil }
        guard version == Envelope.currentVersion else { throw .unknownVersion(version) }
        guard let rawKind = readInteger(as: UInt8.self) else { return nil }
        guard let kind = Envelope.Kind(rawValue: rawKind) else { throw .unknownKind(rawKind) }
        guard let expiresAt = readInteger(as: UInt64.self) else { return nil }
        guard let tagLen = readInteger(as: UInt8.self) else { return nil }
        guard Int(tagLen) <= Envelope.maxTagBytes else { throw .oversized("tag_len", Int(tagLen)) }
        guard let tag = readBytes(length: Int(tagLen)) else { return nil }
        guard let bodyLen = readInteger(as: UInt32.self) else { return nil }
        guard Int(bodyLen) <= Envelope.maxBodyBytes else { throw .oversized("body_len", Int(bodyLen)) }
        guard let body = readBytes(length: Int(bodyLen)) else { return nil }
        return Envelope(kind: kind, expiresAt: expiresAt, tag: tag, body: body)
    }

    @discardableResult
    public mutating func writeEnvelope(_ e: Envelope) -> Int {
        precondition(
            e.tag.count <= Envelope.maxTagBytes && e.body.count <= Envelope.maxBodyBytes,
            "envelope built beyond its bounds: tag \(e.tag.count), body \(e.body.count)")
        var n = 0
        n += writeInteger(Envelope.currentVersion)
        n += writeInteger(e.kind.rawValue)
        n += writeInteger(e.expiresAt)
        n += writeInteger(UInt8(e.tag.count))
        n += writeBytes(e.tag)
        n += writeInteger(UInt32(e.body.count))
        n += writeBytes(e.body)
        return n
    }
}
