import EstafetteAPI
import EstafetteCore

extension InboxItem {
    /// An inbox row as the API shows it (`inbox.list`, `message.received` notifications).
    /// `sender` is the row's sender key, already validated (nil when it is not a valid key).
    init(_ row: Store.InboxRow, sender: SigningPublicKey?) {
        let from = sender.map { PublicID(key: $0).description } ?? "invalid"
        self.init(
            message_id: EnvelopeID(bytes: row.messageID).hex, kind: row.kind, from: from, from_name: row.senderName,
            text: row.text, created_at: row.createdAt, received_at: row.receivedAt, read: row.read,
            followed: row.kind == "alert" ? row.followed : nil)
        self.channel = row.channel
        self.sender =
            row.senderName == nil
            ? SenderTrust.unknown : row.senderVerified ? SenderTrust.verified : SenderTrust.contact
    }

    init(_ row: Store.InboxRow) {
        self.init(row, sender: try? SigningPublicKey(validating: row.sender))
    }
}
