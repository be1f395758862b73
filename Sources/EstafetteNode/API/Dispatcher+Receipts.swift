import EstafetteAPI
import EstafetteCore
import Foundation

/// Delivery receipts as the API shows them: messages.status, messages.sent.
extension Dispatcher {
    static let receiptMethods: [String] = [RPC.Method.messagesStatus, RPC.Method.messagesSent]

    /// The answer to a receipt method; nil for any other method.
    func receiptAnswer(method: String, params: JSONValue?) throws -> Answer? {
        switch method {
        case RPC.Method.messagesStatus:
            let p = try decode(MessagesStatusParams.self, params)
            guard let id = EnvelopeID(hex: p.message_id) else {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.invalidParams,
                    message: "'\(p.message_id.prefix(80))' is not a message_id (64 hex digits)")
            }
            guard let row = try storage({ try shell.store.sentMessage(id) }) else {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.unknownMessage,
                    message: "this node sent no direct message with ID \(id.hex) (or its record was pruned)")
            }
            return try .from(MessageStatus(status: row.status, delivered_at: row.deliveredAt))
        case RPC.Method.messagesSent:
            let p = try decode(MessagesSentParams.self, params)
            let limit = p.limit ?? 100
            guard (1...1000).contains(limit) else {
                throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "limit must be between 1 and 1000")
            }
            let rows = try storage { try shell.store.sentMessages(limit: limit) }
            return try .from(
                SentList(
                    // The node validated each recipient's key before sending; the store gives it back as it was.
                    messages: rows.compactMap { r in
                        (try? SigningPublicKey(validating: r.recipient)).map { key in
                            SentItem(
                                message_id: r.messageID.hex, to: PublicID(key: key).description,
                                to_name: r.recipientName, sent_at: r.sentAt, status: r.status,
                                delivered_at: r.deliveredAt)
                        }
                    }))
        default:
            return nil
        }
    }
}
