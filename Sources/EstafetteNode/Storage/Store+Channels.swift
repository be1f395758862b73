import EstafetteCore
import Foundation
import GRDB

/// Joined channels and blocked senders.
///
/// A channel's name and 32-byte key (the Argon2id output) are kept in the database sealed under the data key
/// (Store+Sealed.swift), looked up by a keyed hash of the name, so the daemon reads its channels again at start-up
/// without the passphrase, and a seized database without the data key shows neither. Blocked IDs are kept only as
/// keyed hashes (the inbox's sender column is one too). A seized device with the data key reads the channel:
/// docs/security.md, "Channels".
extension Store {
    static func registerChannelMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("channels-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE channel (
                        name_index BLOB PRIMARY KEY NOT NULL,
                        sealed BLOB NOT NULL,
                        joined_at INTEGER NOT NULL
                    );
                    ALTER TABLE inbox ADD COLUMN channel BLOB;
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
        let index = Data(vault.index(Array(name.utf8), label: Sealed.channelName))
        let sealed = Data(sealChannel(name: name, key: key))
        return try pool.write { db in
            if let joined = try Int64.fetchOne(
                db, sql: "SELECT joined_at FROM channel WHERE name_index = ?", arguments: [index])
            {
                try db.execute(sql: "UPDATE channel SET sealed = ? WHERE name_index = ?", arguments: [sealed, index])
                return joined
            }
            try db.execute(
                sql: "INSERT INTO channel (name_index, sealed, joined_at) VALUES (?, ?, ?)",
                arguments: [index, sealed, at])
            return at
        }
    }

    /// Returns false when no channel had this name.
    public func leaveChannel(name: String) throws -> Bool {
        let index = Data(vault.index(Array(name.utf8), label: Sealed.channelName))
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM channel WHERE name_index = ?", arguments: [index])
            return db.changesCount > 0
        }
    }

    /// The joined channels with their keys, oldest first.
    public func channels() throws -> [(name: String, key: SecretBytes, joinedAt: Int64)] {
        let rows = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sealed, joined_at FROM channel ORDER BY joined_at")
        }
        return try rows.map { row in
            let (name, key) = try openChannel(Array(row["sealed"] as Data))
            return (name: name, key: key, joinedAt: row["joined_at"])
        }.sorted { ($0.joinedAt, $0.name) < ($1.joinedAt, $1.name) }
    }

    /// A channel row's sealed value: the name's length (u16), the name, then the key.
    func sealChannel(name: String, key: SecretBytes) -> [UInt8] {
        let n = Array(name.utf8)
        var plain = [UInt8(n.count >> 8), UInt8(n.count & 0xFF)] + n
        plain += key.exposedCopy()
        defer { Sodium.wipe(&plain) }
        return vault.seal(plain, label: Sealed.channel)
    }

    func openChannel(_ sealed: [UInt8]) throws -> (String, SecretBytes) {
        var plain = try unseal(sealed, label: Sealed.channel)
        defer { Sodium.wipe(&plain) }
        guard plain.count >= 2 else { throw SecretFile.Failure(description: "\(path): a channel row is damaged") }
        let n = Int(plain[0]) << 8 | Int(plain[1])
        guard plain.count == 2 + n + 32 else {
            throw SecretFile.Failure(description: "\(path): a channel row is damaged")
        }
        return (String(decoding: plain[2..<(2 + n)], as: UTF8.self), SecretBytes(copying: Array(plain[(2 + n)...])))
    }

    // MARK: - Blocking

    public func block(key: [UInt8], at: Int64) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO blocked (pk, blocked_at) VALUES (?, ?)",
                arguments: [Data(personIndex(key)), at])
        }
    }

    /// Returns false when the key was not blocked.
    public func unblock(key: [UInt8]) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM blocked WHERE pk = ?", arguments: [Data(personIndex(key))])
            return db.changesCount > 0
        }
    }

}
