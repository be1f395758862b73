import EstafetteCore
import Foundation
import GRDB
import NIOConcurrencyHelpers

/// The store's relay parts (docs/relays.md): the relays added at run time, and per link key the envelopes and
/// bytes it brought, which the quota reads.
///
/// Migration `relay-v1` adds `envelope.link_key` (the link key that brought the envelope; NULL for the LAN, local
/// sends and imports) and `relay_usage`, one row per link key (the empty blob for NULL) with its envelope and
/// byte counts, kept exact by triggers on every insert, delete and update of `envelope`, whoever makes it (the
/// expiry sweep, a quota eviction, another quota). Reading the usage costs one row per key, not a scan.
extension Store {
    static func registerRelayMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("relay-v1") { db in
            try db.execute(
                sql: """
                    ALTER TABLE envelope ADD COLUMN link_key BLOB;
                    CREATE INDEX envelope_link_expires ON envelope(link_key, expires_at) WHERE link_key IS NOT NULL;
                    CREATE TABLE relay_peer (
                        address TEXT PRIMARY KEY NOT NULL,
                        id TEXT NOT NULL,
                        added_at INTEGER NOT NULL
                    );
                    CREATE TABLE relay_usage (
                        link_key BLOB PRIMARY KEY NOT NULL,
                        envelopes INTEGER NOT NULL,
                        bytes INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO relay_usage (link_key, envelopes, bytes)
                        SELECT COALESCE(link_key, x''), COUNT(*), SUM(LENGTH(data)) FROM envelope GROUP BY 1;
                    CREATE TRIGGER relay_usage_insert AFTER INSERT ON envelope BEGIN
                        INSERT INTO relay_usage (link_key, envelopes, bytes)
                            VALUES (COALESCE(NEW.link_key, x''), 1, LENGTH(NEW.data))
                            ON CONFLICT(link_key) DO UPDATE SET envelopes = envelopes + 1,
                                bytes = bytes + excluded.bytes;
                    END;
                    CREATE TRIGGER relay_usage_delete AFTER DELETE ON envelope BEGIN
                        UPDATE relay_usage SET envelopes = envelopes - 1, bytes = bytes - LENGTH(OLD.data)
                            WHERE link_key = COALESCE(OLD.link_key, x'');
                    END;
                    CREATE TRIGGER relay_usage_update AFTER UPDATE OF link_key, data ON envelope BEGIN
                        UPDATE relay_usage SET envelopes = envelopes - 1, bytes = bytes - LENGTH(OLD.data)
                            WHERE link_key = COALESCE(OLD.link_key, x'');
                        INSERT INTO relay_usage (link_key, envelopes, bytes)
                            VALUES (COALESCE(NEW.link_key, x''), 1, LENGTH(NEW.data))
                            ON CONFLICT(link_key) DO UPDATE SET envelopes = envelopes + 1,
                                bytes = bytes + excluded.bytes;
                    END;
                    """)
        }
    }

    // MARK: - Relays added at run time

    /// A relay added with `relays.add`, as stored.
    public struct StoredRelay: Sendable, Equatable {
        public let address: String
        public let id: String
    }

    public enum RelayConflict: Error, Equatable {
        /// This address is already listed, with this ID.
        case addressTaken(existingID: String)
    }

    /// Adds a relay; adding the same address with the same ID again changes nothing.
    public func addRelay(address: String, id: String, at: Int64) throws {
        try pool.write { db in
            if let existing = try String.fetchOne(
                db, sql: "SELECT id FROM relay_peer WHERE address = ?", arguments: [address])
            {
                guard existing == id else { throw RelayConflict.addressTaken(existingID: existing) }
                return
            }
            try db.execute(
                sql: "INSERT INTO relay_peer (address, id, added_at) VALUES (?, ?, ?)", arguments: [address, id, at])
        }
    }

    /// Returns false when no relay had this address.
    public func removeRelay(address: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM relay_peer WHERE address = ?", arguments: [address])
            return db.changesCount > 0
        }
    }

    /// In the order they were added.
    public func relays() throws -> [StoredRelay] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT address, id FROM relay_peer ORDER BY added_at, address").map {
                StoredRelay(address: $0["address"], id: $0["id"])
            }
        }
    }

    // MARK: - Usage per link key

    /// Stored envelopes and their bytes, in total and per link key (LAN, local and imported ones under nil).
    public struct RelayUsage: Sendable, Equatable {
        public var envelopes: Int64 = 0
        public var bytes: Int64 = 0
        public var perKey: [[UInt8]: (envelopes: Int64, bytes: Int64)] = [:]

        public static func == (a: RelayUsage, b: RelayUsage) -> Bool {
            a.envelopes == b.envelopes && a.bytes == b.bytes && a.perKey.count == b.perKey.count
                && a.perKey.allSatisfy { k, v in b.perKey[k].map { $0 == v } ?? false }
        }

        public func bytes(of key: [UInt8]?) -> Int64 { perKey[key ?? []]?.bytes ?? 0 }
    }

    public func relayUsage() throws -> RelayUsage {
        try pool.read { db in try Self.relayUsage(db) }
    }

    static func relayUsage(_ db: Database) throws -> RelayUsage {
        var u = RelayUsage()
        for row in try Row.fetchAll(db, sql: "SELECT link_key, envelopes, bytes FROM relay_usage WHERE envelopes > 0") {
            let key: Data = row["link_key"]
            let n: Int64 = row["envelopes"]
            let b: Int64 = row["bytes"]
            u.perKey[Array(key)] = (n, b)
            u.envelopes += n
            u.bytes += b
        }
        return u
    }

    /// The link key recorded for a stored envelope (nil: from the LAN, local or imported; or not stored).
    public func linkKey(of id: EnvelopeID) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT link_key FROM envelope WHERE id = ?", arguments: [Data(id.bytes)])
                .map { Array($0) }
        }
    }

    /// Deletes the envelopes that expire soonest, oldest expiry first, while they expire before `before`, until
    /// `bytes` are freed; with `key`, only that link key's. Deletes nothing and returns nil when that cannot
    /// free enough. Returns the deleted IDs.
    func evictSoonestExpiring(bytes needed: Int64, before: UInt64, key: [UInt8]?) throws -> [EnvelopeID]? {
        try pool.write { db in
            var sql = "SELECT id, LENGTH(data) AS size, expires_at FROM envelope"
            var args: StatementArguments = []
            if let key {
                sql += " WHERE link_key = ?"
                args = [Data(key)]
            }
            sql += " ORDER BY expires_at LIMIT 4096"
            var chosen: [(Data, Int64)] = []
            var freed: Int64 = 0
            let rows = try Row.fetchCursor(db, sql: sql, arguments: args)
            while freed < needed, let row = try rows.next() {
                let exp: Int64 = row["expires_at"]
                guard exp >= 0, UInt64(exp) < before else { break }
                let size: Int64 = row["size"]
                chosen.append((row["id"], size))
                freed += size
            }
            guard freed >= needed else { return nil }
            let delete = try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?")
            for (id, _) in chosen { try delete.execute(arguments: [id]) }
            return chosen.map { EnvelopeID(bytes: Array($0.0)) }
        }
    }
}

/// Which link key brought each envelope admitted but not yet committed: `Store.commit` takes the key when it
/// inserts the envelope. Bounded: entries the node never stored (it refused or already held the envelope) are
/// dropped after `maxAgeMillis`.
final class LinkAttribution: Sendable {
    struct Entry {
        let key: [UInt8]
        let size: Int64
        let at: Millis
    }

    static let maxAgeMillis: Millis = 60_000
    static let maxEntries = 65_536
    private let state = NIOLockedValueBox<[EnvelopeID: Entry]>([:])

    /// Records the key; false when the table is full of entries younger than `maxAgeMillis`.
    func record(_ id: EnvelopeID, key: [UInt8], size: Int64, now: Millis) -> Bool {
        state.withLockedValue { s in
            if s.count >= Self.maxEntries { s = s.filter { now - $0.value.at < Self.maxAgeMillis } }
            guard s.count < Self.maxEntries else { return false }
            s[id] = Entry(key: key, size: size, at: now)
            return true
        }
    }

    /// The key of an envelope being committed. It stays pending until ``forget(_:)``, called once the commit is
    /// visible: an admission that reads the stored usage before the commit and the pending bytes after it would
    /// otherwise count the envelope nowhere, and let a flooding key past its share.
    func key(of id: EnvelopeID) -> [UInt8]? {
        state.withLockedValue { s in s.isEmpty ? nil : s[id]?.key }
    }

    /// Committed envelopes: their bytes now count in the store's usage.
    func forget(_ ids: some Sequence<EnvelopeID>) {
        state.withLockedValue { s in
            guard !s.isEmpty else { return }
            for id in ids { s[id] = nil }
        }
    }

    /// Bytes admitted and not yet committed, per key, after dropping stale entries.
    func pending(now: Millis) -> [[UInt8]: Int64] {
        state.withLockedValue { s in
            s = s.filter { now - $0.value.at < Self.maxAgeMillis }
            var out: [[UInt8]: Int64] = [:]
            for e in s.values { out[e.key, default: 0] += e.size }
            return out
        }
    }
}
