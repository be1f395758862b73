import EstafetteCore
import Foundation
import GRDB

/// Bounded storage (issue 9, property 2): the store's quota (`store.max_bytes`), evicting the envelopes the user
/// cares least about first, and the inbox's retention (`inbox.max_messages`, `inbox.retention_days`).
extension Store {
    /// How long an envelope is kept when the store is over its quota, lowest first: envelopes merely carried for
    /// others (including alerts from authors not followed), then alerts from followed authors, then the user's
    /// own envelopes and messages for the user. Within one level, the soonest to expire goes first.
    enum Keep {
        static let carried = 0
        static let followed = 1
        static let mine = 2
    }

    /// Migration v2: the envelope's keep level (and an index to evict by), the authored identity of each inbox
    /// message (one message per sender and nonce, whatever envelope carried it), and the last sequence number
    /// of this node's own alerts (kept apart from the inbox, which may be pruned).
    static func registerV2(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-bounded-storage") { db in
            try db.execute(
                sql: """
                    ALTER TABLE envelope ADD COLUMN keep INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX envelope_evict ON envelope(keep, expires_at);
                    ALTER TABLE inbox ADD COLUMN author_nonce BLOB;
                    CREATE UNIQUE INDEX inbox_authored ON inbox(kind, sender, author_nonce);
                    CREATE TABLE own_alert (
                        author BLOB PRIMARY KEY NOT NULL,
                        seq INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    UPDATE envelope SET keep = 2 WHERE id IN (SELECT message_id FROM inbox WHERE kind = 'direct');
                    UPDATE envelope SET keep = 1 WHERE keep = 0 AND id IN (
                        SELECT i.message_id FROM inbox i JOIN follow f ON f.pk = i.sender WHERE i.kind = 'alert');
                    """)
        }
    }

    static func recordOwnAlert(_ db: Database, author: [UInt8], sequence: UInt64, createdAt: UInt64) throws {
        try db.execute(
            sql: """
                INSERT INTO own_alert (author, seq, created_at) VALUES (?, ?, ?)
                ON CONFLICT(author) DO UPDATE
                SET seq = max(seq, excluded.seq), created_at = max(created_at, excluded.created_at)
                """,
            arguments: [Data(author), Int64(bitPattern: sequence), Int64(clamping: createdAt)])
    }

    /// The latest `created_at` among this author's alerts (0 when none): the node's next alert is created after
    /// it (an author's `created_at` strictly increases with `seq`).
    public func lastAlertCreatedAt(author: [UInt8]) throws -> UInt64 {
        let authorIndex = Data(personIndex(author))
        return try pool.read { db in
            let inInbox =
                try Int64.fetchOne(
                    db, sql: "SELECT MAX(created_at) FROM inbox WHERE kind = 'alert' AND sender = ?",
                    arguments: [authorIndex]) ?? 0
            let kept =
                try Int64.fetchOne(
                    db, sql: "SELECT created_at FROM own_alert WHERE author = ?", arguments: [authorIndex]) ?? 0
            return UInt64(max(0, inInbox, kept))
        }
    }

    /// The bytes of all stored envelopes (their encodings).
    public func envelopeBytes() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(length(data)), 0) FROM envelope") ?? 0 }
    }

    /// Deletes envelopes, lowest keep level first and soonest to expire first within a level, until at least
    /// `bytes` are freed or none is left. Returns the IDs deleted and the bytes freed.
    public func evict(bytes: Int64) throws -> (ids: [EnvelopeID], freed: Int64) {
        try pool.write { db in
            var ids: [EnvelopeID] = []
            var freed: Int64 = 0
            let pick = try db.cachedStatement(
                sql: "SELECT id, length(data) AS n FROM envelope ORDER BY keep, expires_at LIMIT 256")
            let delete = try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?")
            while freed < bytes {
                let rows = try Row.fetchAll(pick)
                if rows.isEmpty { break }
                for row in rows where freed < bytes {
                    let id: Data = row["id"]
                    let n: Int64 = row["n"]
                    try delete.execute(arguments: [id])
                    ids.append(EnvelopeID(bytes: Array(id)))
                    freed += n
                }
            }
            return (ids, freed)
        }
    }

    /// Deletes inbox messages beyond the newest `maxMessages`, and those received before `receivedBefore` (Unix
    /// seconds; nil: no age limit). Alerts from authors not followed go first. Returns how many were deleted.
    @discardableResult
    public func pruneInbox(maxMessages: Int, receivedBefore: Int64?) throws -> Int {
        try pool.write { db in
            var deleted = 0
            if let receivedBefore {
                try db.execute(sql: "DELETE FROM inbox WHERE received_at < ?", arguments: [receivedBefore])
                deleted += db.changesCount
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0
            if count > maxMessages {
                try db.execute(
                    sql: """
                        DELETE FROM inbox WHERE message_id IN (
                            SELECT i.message_id FROM inbox i LEFT JOIN follow f ON f.pk = i.sender
                            ORDER BY (i.kind = 'direct' OR f.pk IS NOT NULL), i.received_at, i.created_at
                            LIMIT ?)
                        """, arguments: [count - maxMessages])
                deleted += db.changesCount
            }
            _ = try pruneSent(db, maxMessages: maxMessages, sentBefore: receivedBefore)
            return deleted
        }
    }
}
