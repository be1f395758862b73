/// Why a relay link was closed. Every failure of a peer's bytes, a timer or a pin is one of these values; none
/// of them is a crash. After one the machine is failed and the shell closes the connection.
public struct RelayLinkError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case pinMismatch
        case handshakeRefused
        case handshake
        case handshakeTimeout
        case badHello
        case unsupportedVersion
        case linkKeyNotAllowed
        case frame
        case transport
        case badRecord
        case unexpectedRecord
        case windowExceeded
        case badAck
        case negentropy
        case idleTimeout
        case peerClosed
        case storeFailed
        case unauthenticatedBytes
    }

    private let base: Base
    /// The value or field concerned, for messages and logs. Never key material.
    public let detail: String

    private init(_ base: Base, _ detail: String = "") {
        self.base = base
        self.detail = detail
    }

    /// The relay's answer did not decrypt: it does not hold the private key of the pinned ID.
    public static let pinMismatch = RelayLinkError(.pinMismatch)
    /// The peer closed during the handshake, before answering the first message. For an initiator this is what
    /// a relay whose key differs from the pin does (it cannot decrypt the first message, so it says nothing),
    /// as does a relay that refuses the link key or is not an Estafette relay.
    public static let handshakeRefused = RelayLinkError(.handshakeRefused)
    /// A handshake message failed (bad tag, short message, degenerate key).
    public static func handshake(_ e: NoiseError) -> RelayLinkError { .init(.handshake, e.reason) }
    /// The handshake did not finish in time.
    public static let handshakeTimeout = RelayLinkError(.handshakeTimeout)
    /// A hello too short or with a bad field.
    public static func badHello(_ why: String) -> RelayLinkError { .init(.badHello, why) }
    /// The peer speaks only a link protocol version this side does not.
    public static func unsupportedVersion(_ v: UInt8) -> RelayLinkError { .init(.unsupportedVersion, "\(v)") }
    /// The initiator's link key is not in the relay's allow list.
    public static let linkKeyNotAllowed = RelayLinkError(.linkKeyNotAllowed)
    /// The byte stream broke the framing (empty frame, frame longer than allowed, too much buffered).
    public static func frame(_ e: NoiseFrameError) -> RelayLinkError { .init(.frame, e.reason) }
    /// A transport message did not decrypt (tampered, replayed, reordered) or could not be sealed.
    public static func transport(_ e: NoiseError) -> RelayLinkError { .init(.transport, e.reason) }
    /// A record with an unknown type or a body of the wrong size.
    public static func badRecord(_ why: String) -> RelayLinkError { .init(.badRecord, why) }
    /// A record that is valid but not allowed now (a Negentropy message to an initiator that is not waiting).
    public static func unexpectedRecord(_ what: String) -> RelayLinkError { .init(.unexpectedRecord, what) }
    /// The peer sent more envelopes than the window this side announced.
    public static func windowExceeded(_ inFlight: Int) -> RelayLinkError { .init(.windowExceeded, "\(inFlight)") }
    /// An acknowledgement that goes backwards or beyond what was sent.
    public static func badAck(_ value: UInt64) -> RelayLinkError { .init(.badAck, "\(value)") }
    /// A Negentropy message was malformed, or reconciliation failed.
    public static func negentropy(_ e: NegentropyError) -> RelayLinkError { .init(.negentropy, e.reason) }
    /// Nothing received for longer than the idle timeout.
    public static let idleTimeout = RelayLinkError(.idleTimeout)
    /// The peer sent a close record with this reason code, or closed the connection.
    public static func peerClosed(_ reason: String) -> RelayLinkError { .init(.peerClosed, reason) }
    /// The shell could not commit an envelope from the peer: it is not acknowledged, the link closes.
    public static let storeFailed = RelayLinkError(.storeFailed)
    /// Internal check: the machine would have sent an unauthenticated peer more bytes than it received.
    public static func unauthenticatedBytes(_ out: Int, _ inBytes: Int) -> RelayLinkError {
        .init(.unauthenticatedBytes, "\(out) > \(inBytes)")
    }

    /// A stable snake_case name for counters and logs.
    public var reason: String {
        switch base {
        case .pinMismatch: return "pin_mismatch"
        case .handshakeRefused: return "handshake_refused"
        case .handshake: return "handshake"
        case .handshakeTimeout: return "handshake_timeout"
        case .badHello: return "bad_hello"
        case .unsupportedVersion: return "unsupported_version"
        case .linkKeyNotAllowed: return "link_key_not_allowed"
        case .frame: return "frame"
        case .transport: return "transport"
        case .badRecord: return "bad_record"
        case .unexpectedRecord: return "unexpected_record"
        case .windowExceeded: return "window_exceeded"
        case .badAck: return "bad_ack"
        case .negentropy: return "negentropy"
        case .idleTimeout: return "idle_timeout"
        case .peerClosed: return "peer_closed"
        case .storeFailed: return "store_failed"
        case .unauthenticatedBytes: return "unauthenticated_bytes"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
}
