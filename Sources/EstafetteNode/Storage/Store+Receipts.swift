import EstafetteCore
import Foundation
import GRDB

/// Sent direct messages and their delivery (`messages.sent`, `messages.status`; docs/protocol.md, "Delivery
/// receipt"). A row is written in the same transaction as the message's envelope, and marked delivered in the
/// same transaction as the receipt's envelope. The recipient is kept like an inbox sender: a keyed index (which
/// joins the contacts) and the sealed key.
extension Store {
    static func registerReceiptMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("sent-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sent (
                        message_id BLOB PRIMARY KEY NOT NULL,
                        recipient BLOB NOT NULL,
                        recipient_sealed BLOB NOT NULL,
                        sent_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        status TEXT NOT NULL DEFAULT 'sent',
                        delivered_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX sent_time ON sent(sent_at);
                    """)
        }
    }

    enum SentStatus {
        static let sent = "sent"
        static let delivered = "delivered"
    }

    public struct SentRow: Sendable, Equatable {
        public let messageID: EnvelopeID
        public let recipient: [UInt8]
        /// The recipient's contact name, when a contact.
        public let recipientName: String?
        public let sentAt: Int64
        /// "sent" or "delivered".
        public let status: String
        public let deliveredAt: Int64?
    }

    /// Records a sent message (inside `commit`'s transaction).
    func insertSent(_ db: Database, _ r: MeshNode.SentRecord) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO sent (message_id, recipient, recipient_sealed, sent_at, expires_at, status,
                    delivered_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Data(r.id.bytes), Data(personIndex(r.recipient.bytes)),
                Data(vault.seal(r.recipient.bytes, label: Sealed.sentRecipient)), Int64(clamping: r.sentAt),
                Int64(clamping: r.expiresAt), r.deliveredAt == nil ? SentStatus.sent : SentStatus.delivered,
                r.deliveredAt.map { Int64(clamping: $0) },
            ])
    }

    /// Marks a sent message delivered by a receipt from `sender` (inside `commit`'s transaction): only a message
    /// sent to that very sender, and only the first time.
    func markDelivered(_ db: Database, _ id: EnvelopeID, by sender: [UInt8], at: Int64) throws {
        try db.execute(
            sql: """
                UPDATE sent SET status = ?, delivered_at = ?
                WHERE message_id = ? AND recipient = ? AND status = ?
                """,
            arguments: [SentStatus.delivered, at, Data(id.bytes), Data(personIndex(sender)), SentStatus.sent])
    }

    static let sentSelect = """
        SELECT s.message_id, s.recipient_sealed, s.sent_at, s.status, s.delivered_at, c.sealed AS contact_sealed
        FROM sent s LEFT JOIN contact c ON c.pk = s.recipient
        """

    private func sentRow(_ row: Row) throws -> SentRow {
        let contact: Data? = row["contact_sealed"]
        return SentRow(
            messageID: EnvelopeID(bytes: Array(row["message_id"] as Data)),
            recipient: try unseal(Array(row["recipient_sealed"] as Data), label: Sealed.sentRecipient),
            recipientName: try contact.map { try openContact($0).name }, sentAt: row["sent_at"],
            status: row["status"], deliveredAt: row["delivered_at"])
    }

    /// One sent message, or nil when this node sent no message with this ID (or it was pruned).
    public func sentMessage(_ id: EnvelopeID) throws -> SentRow? {
        try pool.read { db in
            try Row.fetchOne(db, sql: Self.sentSelect + " WHERE s.message_id = ?", arguments: [Data(id.bytes)])
                .map(sentRow)
        }
    }

    /// Sent messages, newest first.
    public func sentMessages(limit: Int) throws -> [SentRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: Self.sentSelect + " ORDER BY s.sent_at DESC, s.message_id LIMIT ?", arguments: [limit])
                .map(sentRow)
        }
    }

    /// The sent messages still waiting for a receipt that can still come (expired after `expiredAfter`), for the
    /// node at start-up: ID, recipient key, expiry.
    public func awaitingReceipts(expiredAfter: Int64) throws -> [(id: EnvelopeID, recipient: [UInt8], expiresAt: UInt64)] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT message_id, recipient_sealed, expires_at FROM sent WHERE status = ? AND expires_at > ?",
                arguments: [SentStatus.sent, expiredAfter]
            ).map { row in
                (
                    EnvelopeID(bytes: Array(row["message_id"] as Data)),
                    try unseal(Array(row["recipient_sealed"] as Data), label: Sealed.sentRecipient),
                    UInt64(max(0, row["expires_at"] as Int64))
                )
            }
        }
    }

    /// Deletes sent records beyond the newest `maxMessages`, and those sent before `sentBefore` (the inbox's
    /// retention applies to them too), inside `pruneInbox`'s transaction.
    func pruneSent(_ db: Database, maxMessages: Int, sentBefore: Int64?) throws -> Int {
        var deleted = 0
        if let sentBefore {
            try db.execute(sql: "DELETE FROM sent WHERE sent_at < ?", arguments: [sentBefore])
            deleted += db.changesCount
        }
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sent") ?? 0
        if count > maxMessages {
            try db.execute(
                sql: "DELETE FROM sent WHERE message_id IN (SELECT message_id FROM sent ORDER BY sent_at LIMIT ?)",
                arguments: [count - maxMessages])
            deleted += db.changesCount
        }
        return deleted
    }
}
