/// Why a Noise operation failed. Every failure of a peer's bytes (a bad tag, a short message, a degenerate key)
/// is one of these values; none of them is a crash.
///
/// A handshake that has thrown is dead: further calls throw ``handshakeFailed``. A transport that has thrown
/// ``decryptionFailed`` is still usable (its nonce did not move), but Estafette closes the link on any error.
public struct NoiseError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case decryptionFailed
        case messageTooShort
        case messageTooLong
        case nonceExhausted
        case invalidPublicKey
        case invalidKeyLength
        case missingKey
        case unexpectedKey
        case outOfTurn
        case handshakeFailed
        case handshakeNotComplete
    }

    private let base: Base
    /// The value or token concerned, for messages and logs. Never key material.
    public let detail: String

    private init(_ base: Base, _ detail: String = "") {
        self.base = base
        self.detail = detail
    }

    /// An AEAD tag did not verify: wrong key, wrong prologue, tampered or reordered bytes.
    public static let decryptionFailed = NoiseError(.decryptionFailed)
    /// A message ended before a field it must carry.
    public static func messageTooShort(_ field: String, _ count: Int) -> NoiseError {
        .init(.messageTooShort, "\(field): \(count) bytes")
    }
    /// A message, or the plaintext that would make one, is longer than 65535 bytes.
    public static func messageTooLong(_ count: Int) -> NoiseError { .init(.messageTooLong, "\(count) bytes") }
    /// A cipher state has used its last nonce (2^64 - 2); the link must be closed or rekeyed by a new handshake.
    public static let nonceExhausted = NoiseError(.nonceExhausted)
    /// X25519 gave the all-zero output: the peer sent a public key of small order.
    public static let invalidPublicKey = NoiseError(.invalidPublicKey)
    /// A key had the wrong number of bytes.
    public static func invalidKeyLength(_ count: Int) -> NoiseError { .init(.invalidKeyLength, "\(count) bytes") }
    /// The pattern needs a key that was not given (for XK: the initiator's static key or the responder's).
    public static func missingKey(_ which: String) -> NoiseError { .init(.missingKey, which) }
    /// A key was given that the pattern does not use, for example a remote static key to an XK responder, which
    /// learns it from the handshake: accepting it silently would suggest a pin that is not checked.
    public static func unexpectedKey(_ which: String) -> NoiseError { .init(.unexpectedKey, which) }
    /// `writeMessage` when the peer must send, `readMessage` when we must, or either after the last message.
    public static func outOfTurn(_ what: String) -> NoiseError { .init(.outOfTurn, what) }
    /// The handshake threw earlier and cannot be used any more.
    public static let handshakeFailed = NoiseError(.handshakeFailed)
    /// Transport keys were asked for before the last handshake message.
    public static let handshakeNotComplete = NoiseError(.handshakeNotComplete)

    /// A stable snake_case name for counters and logs.
    public var reason: String {
        switch base {
        case .decryptionFailed: return "decryption_failed"
        case .messageTooShort: return "message_too_short"
        case .messageTooLong: return "message_too_long"
        case .nonceExhausted: return "nonce_exhausted"
        case .invalidPublicKey: return "invalid_public_key"
        case .invalidKeyLength: return "invalid_key_length"
        case .missingKey: return "missing_key"
        case .unexpectedKey: return "unexpected_key"
        case .outOfTurn: return "out_of_turn"
        case .handshakeFailed: return "handshake_failed"
        case .handshakeNotComplete: return "handshake_not_complete"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
}
