import EstafetteCore
import Foundation
import GRDB

/// Sealed at rest (issue 10; docs/security.md, "What a seized device reveals"). Every column that names a person
/// or holds a message's text is sealed under the data key (`AtRestKey`); the columns that lookups and joins compare
/// hold a keyed index instead of the value:
///
/// | table.column | holds |
/// | --- | --- |
/// | inbox.sender, contact.pk, follow.pk, own_alert.author | index of the public key (one label, so they join) |
/// | inbox.sender_sealed, follow.pk_sealed | the sealed public key |
/// | inbox.text | the sealed text |
/// | sent.recipient (index), sent.recipient_sealed | the recipient of a sent message, as inbox.sender |
/// | contact.name | index of the name |
/// | contact.sealed | the sealed (public key, name) |
///
/// Envelopes stay as they are (sealed or public already). A sealed canary in `at_rest` tells a wrong data key
/// from a damaged database at open.
extension Store {
    /// The labels: the associated data of a sealed column, the domain of an index.
    enum Sealed {
        static let person = "person"
        static let contactName = "contact.name"
        static let inboxSender = "inbox.sender"
        static let inboxText = "inbox.text"
        static let contact = "contact"
        static let followKey = "follow.pk"
        static let canary = "at_rest.canary"
        static let channel = "channel"
        static let channelName = "channel.name"
        static let inboxChannel = "inbox.channel"
        static let sentRecipient = "sent.recipient"
    }

    static let sealedMigration = "v3-sealed-at-rest"

    func personIndex(_ key: [UInt8]) -> [UInt8] { vault.index(key, label: Sealed.person) }

    func unseal(_ sealed: [UInt8], label: String) throws -> [UInt8] {
        do {
            return try vault.open(sealed, label: label)
        } catch {
            throw Failure(
                description:
                    "\(path): a sealed value (\(label)) does not open: the data key is wrong or the database is damaged"
            )
        }
    }

    /// `len(key) (2 bytes, big-endian) ‖ key ‖ UTF-8 name`, sealed.
    func sealContact(name: String, key: [UInt8]) -> [UInt8] {
        vault.seal([UInt8(key.count >> 8), UInt8(key.count & 0xFF)] + key + Array(name.utf8), label: Sealed.contact)
    }

    func openContact(_ sealed: Data) throws -> (name: String, key: [UInt8]) {
        let plain = try unseal(Array(sealed), label: Sealed.contact)
        guard plain.count >= 2, plain.count >= 2 + (Int(plain[0]) << 8 | Int(plain[1])) else {
            throw Failure(description: "\(path): a sealed contact is malformed")
        }
        let n = Int(plain[0]) << 8 | Int(plain[1])
        return (String(decoding: plain[(2 + n)...], as: UTF8.self), Array(plain[2..<(2 + n)]))
    }

    /// Every migration, the sealing last.
    func migrator(vault: AtRestKey) -> DatabaseMigrator {
        var m = Self.migrator
        m.registerMigration(Self.sealedMigration) { db in try self.sealInPlace(db) }
        return m
    }

    /// Migrates (sealing a plain database in place), then checks the data key against the canary. After sealing a
    /// plain database, rewrites the file (VACUUM) and empties the WAL, so no page of the plain layout remains in
    /// the database's files.
    func openSealed() throws {
        let wasSealed = try pool.read { db in
            try db.tableExists("grdb_migrations")
                && (try Bool.fetchOne(
                    db, sql: "SELECT COUNT(*) > 0 FROM grdb_migrations WHERE identifier = ?",
                    arguments: [Self.sealedMigration]) ?? false)
        }
        try migrator(vault: vault).migrate(pool)
        if !wasSealed {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
        let canary = try pool.read { db in try Data.fetchOne(db, sql: "SELECT canary FROM at_rest") }
        guard let canary, (try? vault.open(Array(canary), label: Sealed.canary)) == Array("estafette".utf8) else {
            throw SecretFile.Failure(
                description: "\(path): the data key (\(DataKeyFile.fileName)) does not open this database: "
                    + "it is not the key the database was sealed with")
        }
    }

    /// Migration v3: seals every row of the plain layout in place.
    func sealInPlace(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE at_rest (canary BLOB NOT NULL);
                ALTER TABLE inbox ADD COLUMN sender_sealed BLOB;
                ALTER TABLE contact ADD COLUMN sealed BLOB;
                ALTER TABLE follow ADD COLUMN pk_sealed BLOB;
                """)
        try db.execute(
            sql: "INSERT INTO at_rest (canary) VALUES (?)",
            arguments: [Data(vault.seal(Array("estafette".utf8), label: Sealed.canary))])
        let inbox = try Row.fetchAll(db, sql: "SELECT message_id, sender, text FROM inbox")
        for row in inbox {
            let sender = Array(row["sender"] as Data)
            // The plain layout stored text as a BLOB of UTF-8 (or, in the oldest rows, as TEXT).
            let text: [UInt8]
            switch (row["text"] as DatabaseValue).storage {
            case .string(let t): text = Array(t.utf8)
            case .blob(let d): text = Array(d)
            case .null, .int64, .double: text = []
            }
            try db.execute(
                sql: "UPDATE inbox SET sender = ?, sender_sealed = ?, text = ? WHERE message_id = ?",
                arguments: [
                    Data(personIndex(sender)), Data(vault.seal(sender, label: Sealed.inboxSender)),
                    Data(vault.seal(text, label: Sealed.inboxText)), row["message_id"] as Data,
                ])
        }
        for row in try Row.fetchAll(db, sql: "SELECT rowid, name, pk FROM contact") {
            let name: String = row["name"]
            let key = Array(row["pk"] as Data)
            try db.execute(
                sql: "UPDATE contact SET name = ?, pk = ?, sealed = ? WHERE rowid = ?",
                arguments: [
                    Data(vault.index(Array(name.utf8), label: Sealed.contactName)), Data(personIndex(key)),
                    Data(sealContact(name: name, key: key)), row["rowid"] as Int64,
                ])
        }
        for key in try Data.fetchAll(db, sql: "SELECT pk FROM follow") {
            try db.execute(
                sql: "UPDATE follow SET pk = ?, pk_sealed = ? WHERE pk = ?",
                arguments: [Data(personIndex(Array(key))), Data(vault.seal(Array(key), label: Sealed.followKey)), key])
        }
        for key in try Data.fetchAll(db, sql: "SELECT author FROM own_alert") {
            try db.execute(
                sql: "UPDATE own_alert SET author = ? WHERE author = ?",
                arguments: [Data(personIndex(Array(key))), key])
        }
    }
}
