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

    /// The `expires_at` of an envelope made at `createdAt` (Unix seconds) to live `lifetimeSeconds`: rounded down
    /// to the minute, so that it says little about when the message was written. Every envelope made by a node
    /// (the daemon's messages, the simulator's workload) gets its expiry here.
    public static func expiry(createdAt: UInt64, lifetimeSeconds: UInt64) -> UInt64 {
        let (sum, overflow) = createdAt.addingReportingOverflow(lifetimeSeconds)
        let exact = overflow ? .max : sum  // far beyond any accepted expiry: refused as expiry_too_far
        return exact - exact % 60
    }

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

extension ByteBuffer {
    /// Reads one envelope. Returns nil when more bytes are needed; throws on malformed input.
    /// The reader index is unchanged unless an envelope was read.
    public mutating func readEnvelope() throws(WireError) -> Envelope? {
        try parseUnwindingIfNeeded { (buffer: inout ByteBuffer) throws(WireError) -> Envelope? in
            try buffer.readEnvelopeFields()
        }
    }

    private mutating func readEnvelopeFields() throws(WireError) -> Envelope? {
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
