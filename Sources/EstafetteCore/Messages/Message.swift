/// A message that authenticated and decrypted (or verified) for this node.
public struct ReceivedMessage: Hashable, Sendable {
    public enum Kind: String, Sendable {
        case direct
        case alert
        case channel
    }

    public let id: EnvelopeID
    public let kind: Kind
    /// The authenticated sender or author.
    public let sender: SigningPublicKey
    /// Unix seconds, as stated by the sender.
    public let createdAt: UInt64
    public let expiresAt: UInt64
    public let text: String
    /// The author's sequence number, for alerts.
    public let sequence: UInt64?
    /// What names this authored message together with its sender, whatever envelope carries it: a direct
    /// message's inner nonce (24 bytes), an alert's sequence number (8 bytes, big-endian). The inbox keeps one
    /// message per sender and nonce (docs/protocol.md, "One authored message, delivered once").
    public let authorNonce: [UInt8]
    /// The name of the joined channel a post came from; nil for other kinds.
    public var channel: String? = nil
    /// Whether its author asked for it to vanish at `expiresAt` from the inbox too (content type 2), not only from
    /// the mesh (`expires_in` on messages.send and channels.post).
    public var ephemeral: Bool = false
    /// For a delivery receipt (a direct message of content type 3): the ID of the direct message it acknowledges.
    /// A receipt has no text, is never shown, and marks that message delivered on the node that sent it.
    public var acknowledges: EnvelopeID? = nil
}

/// Why a message could not be built or opened. Opening failures are counted by `reason`, never shown.
public struct MessageError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case textTooLong, notForUs, malformed, badPadding, forgedSender, expiryMismatch, badSignature,
            invalidKey, notUTF8, wrongKind, directTag, channelSeal
    }

    private let base: Base
    public let detail: String

    private init(_ base: Base, _ detail: String = "") {
        self.base = base
        self.detail = detail
    }

    public static func textTooLong(_ n: Int) -> MessageError { .init(.textTooLong, "\(n) bytes") }
    public static let notForUs = MessageError(.notForUs)
    public static func malformed(_ what: String) -> MessageError { .init(.malformed, what) }
    public static let badPadding = MessageError(.badPadding)
    public static let forgedSender = MessageError(.forgedSender)
    public static let expiryMismatch = MessageError(.expiryMismatch)
    public static let badSignature = MessageError(.badSignature)
    public static let invalidKey = MessageError(.invalidKey)
    public static let notUTF8 = MessageError(.notUTF8)
    public static let wrongKind = MessageError(.wrongKind)
    /// A direct message with a tag: its author never sets one, so a carrier re-wrapped it.
    public static let directTag = MessageError(.directTag)
    /// A post with a joined channel's tag whose sealed body does not open under the channel key (tampered header or
    /// body, or a tag collision).
    public static let channelSeal = MessageError(.channelSeal)

    public var reason: String {
        switch base {
        case .textTooLong: return "text_too_long"
        case .notForUs: return "not_for_us"
        case .malformed: return "malformed_message"
        case .badPadding: return "bad_padding"
        case .forgedSender: return "forged_sender"
        case .expiryMismatch: return "expiry_mismatch"
        case .badSignature: return "bad_signature"
        case .invalidKey: return "invalid_key"
        case .notUTF8: return "not_utf8"
        case .wrongKind: return "wrong_kind"
        case .directTag: return "direct_tag"
        case .channelSeal: return "channel_seal"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason): \(detail)" }
}

public enum MessageLimits {
    /// Longest text, in UTF-8 bytes, of a direct message or an alert.
    public static let maxTextBytes = 32_000
}
