import EstafetteCore
import EstafetteTestKit
import Foundation
import GRDB
import Testing

@testable import EstafetteNode

@Suite("Store: verified contacts")
struct StorePeopleTests {
    @Test("a sealed database of the previous version gains the verified column, every contact unverified")
    func migratesASealedStoreWithoutTheColumn() async throws {
        try await withScratchDir("people-store") { dir in
            let path = dir + "/estafette.sqlite"
            do {
                let store = try Store(path: path)
                try store.addContact(name: "Zoé", key: Fixture.bob.publicKey.bytes)
                #expect(try store.verifyContact(name: "Zoé"))
            }
            // What main wrote before this migration: no column, no record of the migration.
            do {
                let db = try DatabaseQueue(path: path)
                try db.write { db in
                    try db.execute(sql: "ALTER TABLE contact DROP COLUMN verified")
                    try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'contacts-verified-v1'")
                }
            }
            let store = try Store(path: path)
            let contacts = try store.contacts()
            #expect(contacts.map(\.name) == ["Zoé"])
            #expect(contacts.map(\.verified) == [false])
            #expect(try store.verifyContact(name: "Zoé"))
            #expect(!(try store.verifyContact(name: "nobody")))
            #expect(try store.contacts().map(\.verified) == [true])
        }
    }
}
