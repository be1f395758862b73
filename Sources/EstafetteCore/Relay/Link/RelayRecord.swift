import NIOCore

/// One record of a relay link after the handshake: the plaintext of exactly one Noise transport message.
///
/// ```
///  0        1
///  +--------+----------------------------------------------+
///  | type   | body (0 … 65518 bytes, by type)              |
///  | u8     |                                              |
///  +--------+----------------------------------------------+
///
///  type  name         body
///  0x01  negentropy   a Negentropy protocol v1 message (1 … 65518 bytes)
///  0x02  want         n × 32-byte envelope IDs, n ≥ 1 (initiator → relay: send me these)
///  0x03  syncDone     empty (initiator → relay: reconciliation is over)
///  0x04  envelope     one encoded envelope (docs/protocol.md), sent because the peer lacks it
///  0x05  ack          u64 BE: envelope records (types 0x04 and 0x08) received on this link and settled
///  0x06  keepalive    empty
///  0x07  close        u8 reason code (0 normal, 1 protocol error, 2 not allowed, 3 shutting down)
///  0x08  live         one encoded envelope, pushed as it arrived (after or during reconciliation)
/// ```
public enum RelayRecord: Sendable, Hashable {
    case negentropy([UInt8])
    case want([EnvelopeID])
    case syncDone
    case envelope([UInt8])
    case ack(UInt64)
    case keepalive
    case close(CloseReason)
    case live([UInt8])

    /// Why a side closes a link (the body of a close record).
    public enum CloseReason: UInt8, Sendable, Hashable {
        case normal = 0
        case protocolError = 1
        case notAllowed = 2
        case shuttingDown = 3
    }

    /// The largest body: a transport message's plaintext (65519) less the type byte.
    public static let maxBody = NoiseTransport.maxPlaintextLength - 1
    /// The most IDs one want record carries.
    public static let maxWantIDs = maxBody / 32

    /// The record's plaintext.
    public func encoded() -> [UInt8] {
        var buf = ByteBuffer()
        switch self {
        case .negentropy(let m):
            buf.writeInteger(UInt8(0x01))
            buf.writeBytes(m)
        case .want(let ids):
            precondition(!ids.isEmpty && ids.count <= Self.maxWantIDs, "want of \(ids.count) IDs")
            buf.writeInteger(UInt8(0x02))
            for id in ids { buf.writeBytes(id.bytes) }
        case .syncDone:
            buf.writeInteger(UInt8(0x03))
        case .envelope(let e):
            buf.writeInteger(UInt8(0x04))
            buf.writeBytes(e)
        case .ack(let n):
            buf.writeInteger(UInt8(0x05))
            buf.writeInteger(n, endianness: .big)
        case .keepalive:
            buf.writeInteger(UInt8(0x06))
        case .close(let r):
            buf.writeInteger(UInt8(0x07))
            buf.writeInteger(r.rawValue)
        case .live(let e):
            buf.writeInteger(UInt8(0x08))
            buf.writeBytes(e)
        }
        return Array(buf.readableBytesView)
    }

    /// Reads one record from a transport message's plaintext. Throws ``RelayLinkError/badRecord(_:)`` for an
    /// empty plaintext, an unknown type, or a body whose size the type does not allow.
    public init(decoding plaintext: [UInt8]) throws(RelayLinkError) {
        guard let type = plaintext.first else { throw .badRecord("empty") }
        let body = plaintext.dropFirst()
        switch type {
        case 0x01:
            guard !body.isEmpty else { throw .badRecord("empty negentropy message") }
            self = .negentropy(Array(body))
        case 0x02:
            guard !body.isEmpty, body.count % 32 == 0 else { throw .badRecord("want of \(body.count) bytes") }
            var ids: [EnvelopeID] = []
            ids.reserveCapacity(body.count / 32)
            var i = body.startIndex
            while i < body.endIndex {
                ids.append(EnvelopeID(bytes: Array(body[i..<(i + 32)])))
                i += 32
            }
            self = .want(ids)
        case 0x03:
            guard body.isEmpty else { throw .badRecord("syncDone with a body") }
            self = .syncDone
        case 0x04, 0x08:
            guard !body.isEmpty, body.count <= Envelope.maxEncodedBytes else {
                throw .badRecord("envelope of \(body.count) bytes")
            }
            self = type == 0x04 ? .envelope(Array(body)) : .live(Array(body))
        case 0x05:
            guard body.count == 8 else { throw .badRecord("ack of \(body.count) bytes") }
            var v: UInt64 = 0
            for b in body { v = v << 8 | UInt64(b) }
            self = .ack(v)
        case 0x06:
            guard body.isEmpty else { throw .badRecord("keepalive with a body") }
            self = .keepalive
        case 0x07:
            guard body.count == 1 else { throw .badRecord("close of \(body.count) bytes") }
            self = .close(CloseReason(rawValue: body.first!) ?? .protocolError)
        default:
            throw .badRecord("type 0x\(String(type, radix: 16))")
        }
    }
}
