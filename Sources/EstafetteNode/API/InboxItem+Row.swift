import EstafetteAPI
import EstafetteCore

extension InboxItem {
    /// An inbox row as the API shows it (`inbox.list`, `message.received` notifications).
    init(_ row: Store.InboxRow) {
        let from = (try? SigningPublicKey(validating: row.sender)).map { PublicID(key: $0).description } ?? "invalid"
        self.init(
            message_id: EnvelopeID(bytes: row.messageID).hex, kind: row.kind, from: from, from_name: row.senderName,
            text: row.text, created_at: row.createdAt, received_at: row.receivedAt, read: row.read,
            followed: row.kind == "alert" ? row.followed : nil)
    }
}
