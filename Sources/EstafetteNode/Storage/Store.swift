import EstafetteCore
import Foundation
import GRDB
import NIOConcurrencyHelpers

/// The node's SQLite database (WAL, `synchronous = FULL`): envelopes, inbox, contacts, followed authors.
///
/// Every write that an API call reports as done has been committed with a full fsync before the call returns.
/// Methods are synchronous and thread-safe (GRDB serialises writers; readers use WAL snapshots).
public final class Store: Sendable {
    let pool: DatabasePool
    public let path: String
    /// Contact lookups by name (nil: no such contact), so a send does not read SQLite each time. Contacts change
    /// only through this object (the daemon owns the database), which empties the cache after every change and
    /// bumps the generation, so a lookup that read the database before the change does not store its answer.
    private let contactKeys = NIOLockedValueBox<(generation: Int, keys: [String: [UInt8]?])>((0, [:]))
    static let contactCacheLimit = 1_024
    /// The link key of each envelope admitted from a relay link and not yet committed (Store+Relay.swift).
    let linkAttribution = LinkAttribution()
    /// Seals and indexes every column that names a person or holds a message's text (Store+Sealed.swift).
    let vault: AtRestKey

    private func contactsChanged() {
        contactKeys.withLockedValue { c in
            c.generation += 1
            c.keys.removeAll()
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens the store at `path`, sealed with the data key in `data.key` next to it (created when missing).
    public convenience init(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let (key, _) = try DataKeyFile.loadOrCreate(path: (dir.isEmpty ? "." : dir) + "/" + DataKeyFile.fileName)
        try self.init(path: path, dataKey: key)
    }

    /// Opens the store at `path`, sealed with `dataKey` (32 bytes). A plain store of an earlier version is
    /// sealed in place on the way (migration "v3-sealed-at-rest").
    public init(path: String, dataKey: SecretBytes) throws {
        self.path = path
        self.vault = try AtRestKey(dataKey: dataKey)
        var config = Configuration()
        config.prepareDatabase { db in
            // Small pages: envelope IDs are random, so each insert dirties a page of its own, and the page is what
            // gets written (twice, with the WAL). 1 KiB instead of 4 KiB cuts bytes written per message (SD cards
            // wear out). Only takes effect when the file is created.
            try db.execute(sql: "PRAGMA page_size = 1024")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA cache_size = -1024")  // 1 MiB per connection
            // Deleted content is overwritten with zeros, and temporary tables (VACUUM's) stay in memory.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        config.busyMode = .timeout(5)
        config.maximumReaderCount = 2  // the API's reads are short; fewer connections, less page cache
        // Create the file owner-only whatever the process's umask (its sealed columns are not all it holds).
        // SQLite gives the -wal and -shm files the mode of the database file.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        pool = try DatabasePool(path: path, configuration: config)
        try openSealed()
    }

    /// The migrations of the plain layout (before the data key): what version 0.x wrote. `migrator(vault:)` adds
    /// the sealing.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE envelope (
                        id BLOB PRIMARY KEY NOT NULL,
                        kind INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        data BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX envelope_expires ON envelope(expires_at);
                    CREATE TABLE inbox (
                        message_id BLOB PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        sender BLOB NOT NULL,
                        text TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        seq INTEGER,
                        read INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE INDEX inbox_received ON inbox(received_at);
                    CREATE TABLE contact (
                        name TEXT PRIMARY KEY NOT NULL,
                        pk BLOB NOT NULL UNIQUE
                    );
                    CREATE TABLE follow (
                        pk BLOB PRIMARY KEY NOT NULL,
                        followed_at INTEGER NOT NULL
                    );
                    """)
        }
        registerV2(&m)
        registerRelayMigrations(&m)
        registerChannelMigrations(&m)
        registerPeopleMigrations(&m)
        registerReceiptMigrations(&m)
        return m
    }

    // MARK: - Envelopes

    /// Calls `body` with the ID and expiry of every stored envelope, streaming (no array of the whole store:
    /// a relay's start-up must not double its memory).
    public func forEachEnvelope(_ body: (EnvelopeID, UInt64) -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT id, expires_at FROM envelope")
            while let row = try rows.next() {
                let exp: Int64 = row["expires_at"]
                let id = try row.withUnsafeData(atIndex: 0) { data in data.map { EnvelopeID(bytes: Array($0)) } }
                if let id { body(id, UInt64(max(0, exp))) }
            }
        }
    }

    /// Commits envelopes and, for those that were for us, their inbox entries, in one transaction (group commit:
    /// one fsync for the lot). Returns, per item, whether its message was new to the inbox: a message whose sender
    /// and nonce (`ReceivedMessage.authorNonce`) are there already is not, whatever envelope carried it.
    /// `local` names the envelopes made here; with messages for us and followed authors' alerts, they are the last
    /// the quota evicts (`Store+Quota.swift`).
    /// With `requestsFromStrangers`, a direct message from a sender who is not a contact is a request: kept apart
    /// (`inbox(requests: true)`) and not reported as new.
    public func commit(
        _ items: [(StoredEnvelope, ReceivedMessage?, Int64)], local: Set<EnvelopeID> = [],
        requestsFromStrangers: Bool = false
    ) throws -> [Bool] {
        try place(items, local: local, requestsFromStrangers: requestsFromStrangers).map { $0 == .inbox }
    }

    /// `commit`, saying where each message went (nil: no message) for the node to decide on receipts, and
    /// recording the direct messages sent here (`sent`) in the same transaction. A receipt's message
    /// (`ReceivedMessage.acknowledges`) never enters the inbox: it marks the message it names delivered, if that
    /// message was sent here to the receipt's sender.
    public func place(
        _ items: [(StoredEnvelope, ReceivedMessage?, Int64)], local: Set<EnvelopeID> = [],
        requestsFromStrangers: Bool = false, sent: [MeshNode.SentRecord] = []
    ) throws -> [MeshNode.Placement?] {
        // Committed: the envelopes' bytes count in the stored usage now, no longer as pending.
        defer { linkAttribution.forget(items.map { $0.0.id }) }
        return try pool.write { db in
            for r in sent { try insertSent(db, r) }
            let insertEnvelope = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO envelope (id, kind, expires_at, received_at, data, keep, link_key)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            let insertInbox = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO inbox
                        (message_id, kind, sender, text, created_at, received_at, seq, author_nonce, sender_sealed)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let isFollowed = try db.cachedStatement(sql: "SELECT 1 FROM follow WHERE pk = ?")
            let isBlocked = try db.cachedStatement(sql: Self.isBlockedSQL)
            let isContact = try db.cachedStatement(sql: "SELECT 1 FROM contact WHERE pk = ?")
            var fresh: [MeshNode.Placement?] = []
            fresh.reserveCapacity(items.count)
            for (e, message, receivedAt) in items {
                let own = local.contains(e.id)
                var keep = own || message?.kind == .direct || message?.kind == .channel ? Keep.mine : Keep.carried
                if keep == Keep.carried, let m = message, m.kind == .alert,
                    try Row.fetchOne(isFollowed, arguments: [Data(personIndex(m.sender.bytes))]) != nil
                {
                    keep = Keep.followed
                }
                try insertEnvelope.execute(arguments: [
                    Data(e.id.bytes), Int(e.kind.rawValue), Int64(e.expiresAt), receivedAt, Data(e.bytes), keep,
                    linkAttribution.key(of: e.id).map { Data($0) },
                ])
                guard let m = message else {
                    fresh.append(nil)
                    continue
                }
                if let acknowledged = m.acknowledges {
                    try markDelivered(db, acknowledged, by: m.sender.bytes, at: receivedAt)
                    fresh.append(.acknowledged)
                    continue
                }
                // A blocked sender's message is carried like anyone's, never shown (Store+Channels.swift).
                guard try Row.fetchOne(isBlocked, arguments: [Data(personIndex(m.sender.bytes))]) == nil else {
                    fresh.append(.hidden)
                    continue
                }
                // Text is stored as UTF-8 bytes: SQLite's TEXT accessors stop at a NUL, and a message may hold one.
                try insertInbox.execute(arguments: [
                    Data(m.id.bytes), m.kind.rawValue, Data(personIndex(m.sender.bytes)),
                    Data(vault.seal(Array(m.text.utf8), label: Sealed.inboxText)), Int64(clamping: m.createdAt),
                    receivedAt, m.sequence.map { Int64(bitPattern: $0) }, Data(m.authorNonce),
                    Data(vault.seal(m.sender.bytes, label: Sealed.inboxSender)),
                ])
                let inserted = db.changesCount > 0
                var placement = inserted ? MeshNode.Placement.inbox : .duplicate
                if inserted, requestsFromStrangers, m.kind == .direct, !own,
                    try Row.fetchOne(isContact, arguments: [Data(personIndex(m.sender.bytes))]) == nil
                {
                    try db.execute(
                        sql: "UPDATE inbox SET request = 1 WHERE message_id = ?", arguments: [Data(m.id.bytes)])
                    placement = .request
                }
                fresh.append(placement)
                if m.channel != nil || m.ephemeral, inserted {
                    try db.execute(
                        sql: "UPDATE inbox SET channel = ?, expires_at = ? WHERE message_id = ?",
                        arguments: [
                            m.channel.map { Data(vault.seal(Array($0.utf8), label: Sealed.inboxChannel)) },
                            m.ephemeral ? Int64(clamping: m.expiresAt) : nil, Data(m.id.bytes),
                        ])
                }
                if own, m.kind == .alert, let seq = m.sequence {
                    try Self.recordOwnAlert(
                        db, author: personIndex(m.sender.bytes), sequence: seq, createdAt: m.createdAt)
                }
            }
            return fresh
        }
    }

    public func envelopes(_ ids: [EnvelopeID]) throws -> [StoredEnvelope] {
        try pool.read { db in
            try ids.compactMap { id in
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT kind, expires_at, data FROM envelope WHERE id = ?", arguments: [Data(id.bytes)]
                    )
                else { return nil }
                let kind: Int = row["kind"]
                let exp: Int64 = row["expires_at"]
                let data: Data = row["data"]
                guard let k = Envelope.Kind(rawValue: UInt8(clamping: kind)) else { return nil }
                return StoredEnvelope(id: id, kind: k, expiresAt: UInt64(max(0, exp)), bytes: Array(data))
            }
        }
    }

    @discardableResult
    public func deleteExpired(upTo: UInt64) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM envelope WHERE expires_at <= ?", arguments: [Int64(clamping: upTo)])
            let n = db.changesCount
            // Ephemeral messages (`expires_in`) vanish from the inbox with their envelopes.
            try db.execute(sql: "DELETE FROM inbox WHERE expires_at <= ?", arguments: [Int64(clamping: upTo)])
            return n
        }
    }

    public func envelopeCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM envelope") ?? 0 }
    }

    // MARK: - Contacts

    public enum ContactConflict: Error {
        case nameTaken(existingID: [UInt8])
        case keyTaken(existingName: String)
    }

    public func addContact(name: String, key: [UInt8]) throws {
        let nameIndex = Data(vault.index(Array(name.utf8), label: Sealed.contactName))
        let keyIndex = Data(personIndex(key))
        try pool.write { db in
            if let sealed = try Data.fetchOne(
                db, sql: "SELECT sealed FROM contact WHERE name = ?", arguments: [nameIndex])
            {
                throw ContactConflict.nameTaken(existingID: try openContact(sealed).key)
            }
            if let sealed = try Data.fetchOne(db, sql: "SELECT sealed FROM contact WHERE pk = ?", arguments: [keyIndex])
            {
                throw ContactConflict.keyTaken(existingName: try openContact(sealed).name)
            }
            try db.execute(
                sql: "INSERT INTO contact (name, pk, sealed) VALUES (?, ?, ?)",
                arguments: [nameIndex, keyIndex, Data(sealContact(name: name, key: key))])
        }
        contactsChanged()
    }

    /// Sorted by name.
    public func contacts() throws -> [(name: String, key: [UInt8], verified: Bool)] {
        let all = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sealed, verified FROM contact").map { row in
                let (name, key) = try openContact(row["sealed"] as Data)
                return (name: name, key: key, verified: row["verified"] as Bool)
            }
        }
        return all.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    public func contactKey(name: String) throws -> [UInt8]? {
        let (generation, cached) = contactKeys.withLockedValue { ($0.generation, $0.keys[name]) }
        if let cached { return cached }
        let nameIndex = Data(vault.index(Array(name.utf8), label: Sealed.contactName))
        let key = try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed FROM contact WHERE name = ?", arguments: [nameIndex])
                .map { try openContact($0).key }
        }
        contactKeys.withLockedValue { c in
            guard c.generation == generation else { return }
            if c.keys.count >= Self.contactCacheLimit { c.keys.removeAll() }
            c.keys[name] = .some(key)
        }
        return key
    }

    /// Returns false when there was no such contact.
    public func removeContact(name: String) throws -> Bool {
        defer { contactsChanged() }
        let nameIndex = Data(vault.index(Array(name.utf8), label: Sealed.contactName))
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM contact WHERE name = ?", arguments: [nameIndex])
            return db.changesCount > 0
        }
    }

    // MARK: - Follows

    public func follow(key: [UInt8], at: Int64) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO follow (pk, pk_sealed, followed_at) VALUES (?, ?, ?)",
                arguments: [Data(personIndex(key)), Data(vault.seal(key, label: Sealed.followKey)), at])
        }
    }

    public func unfollow(key: [UInt8]) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM follow WHERE pk = ?", arguments: [Data(personIndex(key))])
            return db.changesCount > 0
        }
    }

    public func followed() throws -> [[UInt8]] {
        try pool.read { db in
            try Data.fetchAll(db, sql: "SELECT pk_sealed FROM follow ORDER BY followed_at").map {
                try unseal(Array($0), label: Sealed.followKey)
            }
        }
    }

    // MARK: - Inbox

    public struct InboxRow: Sendable, Equatable {
        public let messageID: [UInt8]
        public let kind: String
        public let sender: [UInt8]
        public let senderName: String?
        public let text: String
        public let createdAt: Int64
        public let receivedAt: Int64
        public let read: Bool
        public let followed: Bool
        /// Whether the sender is a contact marked verified (`contacts.verify`).
        public var senderVerified: Bool = false
        /// The channel of a channel post.
        public var channel: String? = nil
    }

    static let inboxSelect = """
        SELECT i.message_id, i.kind, i.sender_sealed, i.text, i.created_at, i.received_at, i.read,
               c.sealed AS contact_sealed, (f.pk IS NOT NULL) AS followed, i.channel,
               COALESCE(c.verified, 0) AS contact_verified
        FROM inbox i
        LEFT JOIN contact c ON c.pk = i.sender
        LEFT JOIN follow f ON f.pk = i.sender
        """

    func inboxRow(_ row: Row) throws -> InboxRow {
        let mid: Data = row["message_id"]
        let sender = try unseal(Array(row["sender_sealed"] as Data), label: Sealed.inboxSender)
        let text = try unseal(Array(row["text"] as Data), label: Sealed.inboxText)
        let contact: Data? = row["contact_sealed"]
        return InboxRow(
            messageID: Array(mid), kind: row["kind"], sender: sender,
            senderName: try contact.map { try openContact($0).name },
            text: String(decoding: text, as: UTF8.self), createdAt: row["created_at"], receivedAt: row["received_at"],
            read: row["read"],
            followed: row["followed"],
            senderVerified: row["contact_verified"],
            channel: try (row["channel"] as Data?).map {
                String(decoding: try unseal(Array($0), label: Sealed.inboxChannel), as: UTF8.self)
            })
    }

    /// Newest first.
    public func inbox(limit: Int, since: Int64?, unreadOnly: Bool, requests: Bool = false) throws -> [InboxRow] {
        try pool.read { db in
            var sql = Self.inboxSelect + " WHERE " + Self.notBlockedSQL + " AND "
            sql += requests ? Self.isRequestSQL : "NOT " + Self.isRequestSQL
            var args: [any DatabaseValueConvertible] = []
            if let since {
                sql += " AND i.received_at >= ?"
                args.append(since)
            }
            if unreadOnly { sql += " AND i.read = 0" }
            sql += " ORDER BY i.received_at DESC, i.created_at DESC LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(inboxRow)
        }
    }

    /// The inbox rows of these messages, in the given order (missing ones skipped).
    public func inboxItems(_ ids: [EnvelopeID]) throws -> [InboxRow] {
        try pool.read { db in
            let stmt = try db.cachedStatement(sql: Self.inboxSelect + " WHERE i.message_id = ?")
            return try ids.compactMap { id in
                try Row.fetchOne(stmt, arguments: [Data(id.bytes)]).map(inboxRow)
            }
        }
    }

    public func markRead(_ ids: [EnvelopeID]) throws -> Int {
        try pool.write { db in
            var n = 0
            for id in ids {
                try db.execute(
                    sql: "UPDATE inbox SET read = 1 WHERE message_id = ? AND read = 0", arguments: [Data(id.bytes)])
                n += db.changesCount
            }
            return n
        }
    }

    // MARK: - Counters

    /// The highest sequence number among this author's alerts (0 when none). The author's own alerts are in its
    /// inbox, committed in the same transaction as their envelopes, so the number is durable with the alert.
    /// The inbox may have been pruned since (`inbox.max_messages`), so the last number is also kept on its own.
    public func lastAlertSequence(author: [UInt8]) throws -> UInt64 {
        let authorIndex = Data(personIndex(author))
        return try pool.read { db in
            let inInbox =
                try Int64.fetchOne(
                    db, sql: "SELECT MAX(seq) FROM inbox WHERE kind = 'alert' AND sender = ?", arguments: [authorIndex]
                )
                ?? 0
            let kept =
                try Int64.fetchOne(db, sql: "SELECT seq FROM own_alert WHERE author = ?", arguments: [authorIndex])
                ?? 0
            return UInt64(max(0, inInbox, kept))
        }
    }
}
