#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Delivery receipts (docs/api.md: messages.status, messages.sent).
extension RPC.Method {
    public static let messagesStatus = "messages.status"
    public static let messagesSent = "messages.sent"
}

extension RPC.ErrorCode {
    /// messages.status: this node sent no direct message with this ID (or its record was pruned with the inbox).
    public static let unknownMessage = -32080
}

/// What `messages.status` and `messages.sent` say of a sent message.
public enum DeliveryStatus {
    /// Sent, no receipt yet (the recipient's node has not put it in the inbox, or does not send receipts).
    public static let sent = "sent"
    /// The recipient's node put it in the inbox and said so with a receipt.
    public static let delivered = "delivered"
}

public struct MessagesStatusParams: Codable, Sendable {
    /// The `message_id` messages.send returned.
    public var message_id: String
    public init(message_id: String) { self.message_id = message_id }
}

public struct MessageStatus: Codable, Sendable, Equatable {
    /// "sent" or "delivered" (`DeliveryStatus`).
    public var status: String
    /// Unix seconds, by this node's clock, when the receipt arrived; only when delivered.
    public var delivered_at: Int64?
    public init(status: String, delivered_at: Int64? = nil) {
        self.status = status
        self.delivered_at = delivered_at
    }
}

public struct MessagesSentParams: Codable, Sendable {
    /// At most this many messages (default 100, at most 1000), newest first.
    public var limit: Int?
    public init(limit: Int? = nil) { self.limit = limit }
}

public struct SentItem: Codable, Sendable, Equatable {
    public var message_id: String
    /// The recipient's textual ID.
    public var to: String
    /// The recipient's contact name, when a contact.
    public var to_name: String?
    /// Unix seconds, by this node's clock.
    public var sent_at: Int64
    /// "sent" or "delivered" (`DeliveryStatus`).
    public var status: String
    public var delivered_at: Int64?

    public init(
        message_id: String, to: String, to_name: String? = nil, sent_at: Int64, status: String,
        delivered_at: Int64? = nil
    ) {
        self.message_id = message_id
        self.to = to
        self.to_name = to_name
        self.sent_at = sent_at
        self.status = status
        self.delivered_at = delivered_at
    }
}

public struct SentList: Codable, Sendable, Equatable {
    public var messages: [SentItem]
    public init(messages: [SentItem]) { self.messages = messages }
}
