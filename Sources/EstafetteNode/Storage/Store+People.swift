import EstafetteCore
import Foundation
import GRDB

/// Verified contacts (issue 12). The flag lives in clear in the contact's row, which is found by the keyed hash of
/// the name (Store+Sealed.swift): the database shows how many contacts are verified, never who they are.
extension Store {
    static func registerPeopleMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("contacts-verified-v1") { db in
            try db.execute(sql: "ALTER TABLE contact ADD COLUMN verified INTEGER NOT NULL DEFAULT 0")
        }
    }

    /// Marks the contact `name` verified. Returns false when there is no such contact.
    public func verifyContact(name: String) throws -> Bool {
        let nameIndex = Data(vault.index(Array(name.utf8), label: Sealed.contactName))
        return try pool.write { db in
            try db.execute(sql: "UPDATE contact SET verified = 1 WHERE name = ?", arguments: [nameIndex])
            return db.changesCount > 0
        }
    }
}
