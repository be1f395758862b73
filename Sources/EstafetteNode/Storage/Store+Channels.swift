import EstafetteCore
import Foundation
import GRDB

/// Joined channels and blocked senders.
///
/// A channel's 32-byte key (the Argon2id output) is kept in the database, which is created owner-only (0600), so
/// the daemon reads its channels again at start-up without the passphrase. A seized device with this file reads
/// the channel: docs/security.md, "Channels".
extension Store {
    static func registerChannelMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("channels-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE channel (
                        name TEXT PRIMARY KEY NOT NULL,
                        key BLOB NOT NULL,
                        joined_at INTEGER NOT NULL
                    );
                    ALTER TABLE inbox ADD COLUMN channel TEXT;
                    ALTER TABLE inbox ADD COLUMN expires_at INTEGER;
                    CREATE INDEX inbox_expires ON inbox(expires_at) WHERE expires_at IS NOT NULL;
                    ALTER TABLE inbox ADD COLUMN request INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE blocked (
                        pk BLOB PRIMARY KEY NOT NULL,
                        blocked_at INTEGER NOT NULL
                    );
                    """)
        }
    }

    static let isBlockedSQL = "SELECT 1 FROM blocked WHERE pk = ?"
    /// A condition on `inbox i`: the sender is not blocked.
    static let notBlockedSQL = "i.sender NOT IN (SELECT pk FROM blocked)"
    /// A condition on `inbox i`: a request (a direct message from a stranger, kept apart) whose sender is still
    /// not a contact. Adding the sender as a contact moves its requests to the inbox.
    static let isRequestSQL = "(i.request = 1 AND i.sender NOT IN (SELECT pk FROM contact))"

    // MARK: - Channels

    /// Joins (or re-keys) a channel. Returns the time it was first joined.
    @discardableResult
    public func joinChannel(name: String, key: SecretBytes, at: Int64) throws -> Int64 {
        let bytes = Data(key.exposedCopy())
        return try pool.write { db in
            if let joined = try Int64.fetchOne(
                db, sql: "SELECT joined_at FROM channel WHERE name = ?", arguments: [name])
            {
                try db.execute(sql: "UPDATE channel SET key = ? WHERE name = ?", arguments: [bytes, name])
                return joined
            }
            try db.execute(
                sql: "INSERT INTO channel (name, key, joined_at) VALUES (?, ?, ?)", arguments: [name, bytes, at])
            return at
        }
    }

    /// Returns false when no channel had this name.
    public func leaveChannel(name: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM channel WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    /// The joined channels with their keys, oldest first.
    public func channels() throws -> [(name: String, key: SecretBytes, joinedAt: Int64)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, key, joined_at FROM channel ORDER BY joined_at, name").map { row in
                let key: Data = row["key"]
                let name: String = row["name"]
                let joinedAt: Int64 = row["joined_at"]
                return (name: name, key: SecretBytes(copying: Array(key)), joinedAt: joinedAt)
            }
        }
    }

    // MARK: - Blocking

    public func block(key: [UInt8], at: Int64) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO blocked (pk, blocked_at) VALUES (?, ?)", arguments: [Data(key), at])
        }
    }

    /// Returns false when the key was not blocked.
    public func unblock(key: [UInt8]) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM blocked WHERE pk = ?", arguments: [Data(key)])
            return db.changesCount > 0
        }
    }

    public func blocked() throws -> [[UInt8]] {
        try pool.read { db in
            try Data.fetchAll(db, sql: "SELECT pk FROM blocked ORDER BY blocked_at").map { Array($0) }
        }
    }
}
