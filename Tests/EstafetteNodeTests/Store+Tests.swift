import EstafetteCore
import EstafetteNode
import Foundation
import Testing

/// The SQLite store, on a real file in a temporary directory.
@Suite("Store")
struct StoreTests {
    static func open(_ dir: String) throws -> Store { try Store(path: dir + "/estafette.sqlite") }

    @Test("a committed envelope reads back byte for byte; a missing ID is skipped")
    func commitAndRead() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            let relayed = Fixture.opaque()
            let (alert, message) = try Fixture.alert("water cut at 14:00")
            #expect(try store.commit([(relayed, nil, 100), (alert, message, 101)]) == [false, true])
            #expect(try store.envelopeCount() == 2)
            let missing = Fixture.opaque().id
            #expect(try store.envelopes([alert.id, missing, relayed.id]) == [alert, relayed])
        }
    }

    @Test("a duplicate envelope or message is ignored: the first copy and its received_at stay")
    func duplicatesAreIgnored() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            let (e, m) = try Fixture.direct("hello bob")
            // Twice in one group commit, then again in a later one.
            #expect(try store.commit([(e, m, 100), (e, m, 200)]) == [true, false])
            #expect(try store.commit([(e, m, 300)]) == [false])
            #expect(try store.envelopeCount() == 1)
            let inbox = try store.inbox(limit: 10, since: nil, unreadOnly: false)
            #expect(inbox.count == 1)
            #expect(inbox.first?.receivedAt == 100)
        }
    }

    @Test("inbox rows carry kind, sender, text (NUL and non-ASCII included), contact name and follow state")
    func inboxRows() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            let text = "zéro\u{0}un 🚲"
            let (d, dm) = try Fixture.direct(text, from: Fixture.alice, to: Fixture.bob)
            let (a, am) = try Fixture.alert("checkpoint", by: Fixture.carol, sequence: 7)
            _ = try store.commit([(d, dm, 100), (a, am, 101)])
            try store.addContact(name: "alice", key: Fixture.alice.publicKey.bytes)
            try store.follow(key: Fixture.carol.publicKey.bytes, at: 5)
            let rows = try store.inbox(limit: 10, since: nil, unreadOnly: false)
            #expect(rows.map(\.kind) == ["alert", "direct"], "newest first")
            let alert = try #require(rows.first)
            #expect(alert.sender == Fixture.carol.publicKey.bytes)
            #expect(alert.senderName == nil)
            #expect(alert.followed)
            let direct = try #require(rows.last)
            #expect(direct.messageID == d.id.bytes)
            #expect(direct.text == text)
            #expect(direct.senderName == "alice")
            #expect(!direct.followed)
            #expect(direct.createdAt == Int64(Fixture.now))
            #expect(!direct.read)
            #expect(
                try store.inboxItems([a.id, Fixture.opaque().id, d.id]).map(\.messageID) == [a.id.bytes, d.id.bytes])
        }
    }

    @Test("inbox filters: limit, since, unread; mark_read counts only rows that changed")
    func inboxFiltersAndMarkRead() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            var ids: [EnvelopeID] = []
            for i in 0..<5 {
                let (e, m) = try Fixture.alert("alert \(i)", sequence: UInt64(i + 1))
                _ = try store.commit([(e, m, 100 + Int64(i))])
                ids.append(e.id)
            }
            #expect(try store.inbox(limit: 2, since: nil, unreadOnly: false).map(\.text) == ["alert 4", "alert 3"])
            #expect(try store.inbox(limit: 10, since: 103, unreadOnly: false).map(\.text) == ["alert 4", "alert 3"])
            #expect(try store.markRead([ids[4], ids[0], Fixture.opaque().id]) == 2)
            #expect(try store.markRead([ids[4]]) == 0, "already read")
            #expect(
                try store.inbox(limit: 10, since: nil, unreadOnly: true).map(\.text) == [
                    "alert 3", "alert 2", "alert 1",
                ])
        }
    }

    @Test("deleteExpired removes envelopes expiring at or before the time; the inbox keeps their messages")
    func deleteExpired() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            let early = Fixture.opaque(expiresAt: 1000)
            let edge = Fixture.opaque(expiresAt: 2000)
            let (late, message) = try Fixture.alert("still here", expiresAt: 3000)
            _ = try store.commit([(early, nil, 1), (edge, nil, 1), (late, message, 1)])
            #expect(try store.deleteExpired(upTo: 2000) == 2)
            #expect(try store.deleteExpired(upTo: 2000) == 0)
            #expect(try store.envelopes([early.id, edge.id, late.id]) == [late])
            #expect(try store.deleteExpired(upTo: 3000) == 1)
            #expect(try store.envelopeCount() == 0)
            #expect(try store.inbox(limit: 10, since: nil, unreadOnly: false).map(\.text) == ["still here"])
        }
    }

    @Test("lastAlertSequence is the author's highest alert sequence, 0 when it has none")
    func lastAlertSequence() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            let alice = Fixture.alice.publicKey.bytes
            #expect(try store.lastAlertSequence(author: alice) == 0)
            for seq: UInt64 in [3, 9, 4] {
                let (e, m) = try Fixture.alert("a\(seq)", by: Fixture.alice, sequence: seq)
                _ = try store.commit([(e, m, 1)])
            }
            let (other, om) = try Fixture.alert("b", by: Fixture.bob, sequence: 50)
            let (direct, dm) = try Fixture.direct("dm", from: Fixture.alice, to: Fixture.bob)
            _ = try store.commit([(other, om, 1), (direct, dm, 1)])
            #expect(try store.lastAlertSequence(author: alice) == 9)
            #expect(try store.lastAlertSequence(author: Fixture.bob.publicKey.bytes) == 50)
            #expect(try store.lastAlertSequence(author: Fixture.carol.publicKey.bytes) == 0)
        }
    }

    @Test("contacts: one name per ID and one ID per name, listed by name; removing an unknown name says so")
    func contacts() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            try store.addContact(name: "carol", key: Fixture.carol.publicKey.bytes)
            try store.addContact(name: "bob", key: Fixture.bob.publicKey.bytes)
            #expect(throws: Store.ContactConflict.self) {
                try store.addContact(name: "bob", key: Fixture.alice.publicKey.bytes)
            }
            do {
                try store.addContact(name: "robert", key: Fixture.bob.publicKey.bytes)
                Issue.record("a second name for bob's ID was accepted")
            } catch Store.ContactConflict.keyTaken(let existing) {
                #expect(existing == "bob")
            }
            #expect(try store.contacts().map(\.name) == ["bob", "carol"])
            #expect(try store.contactKey(name: "bob") == Fixture.bob.publicKey.bytes)
            #expect(try store.contactKey(name: "Bob") == nil, "names are case-sensitive")
            #expect(try store.removeContact(name: "bob"))
            #expect(try !store.removeContact(name: "bob"))
            #expect(try store.contacts().map(\.name) == ["carol"])
        }
    }

    @Test("following twice is one follow; unfollowing someone not followed returns false")
    func follows() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            try store.follow(key: Fixture.bob.publicKey.bytes, at: 20)
            try store.follow(key: Fixture.alice.publicKey.bytes, at: 10)
            try store.follow(key: Fixture.bob.publicKey.bytes, at: 30)
            #expect(try store.followed() == [Fixture.alice.publicKey.bytes, Fixture.bob.publicKey.bytes])
            #expect(try store.unfollow(key: Fixture.alice.publicKey.bytes))
            #expect(try !store.unfollow(key: Fixture.alice.publicKey.bytes))
        }
    }

    @Test("closing and reopening the file keeps envelopes, inbox, read state, contacts and follows")
    func reopenKeepsData() async throws {
        try await withScratchDir("store") { dir in
            let (e, m) = try Fixture.direct("kept")
            let relayed = Fixture.opaque(expiresAt: 4242)
            do {
                let store = try Self.open(dir)
                _ = try store.commit([(e, m, 100), (relayed, nil, 100)])
                _ = try store.markRead([e.id])
                try store.addContact(name: "alice", key: Fixture.alice.publicKey.bytes)
                try store.follow(key: Fixture.carol.publicKey.bytes, at: 1)
            }
            let store = try Self.open(dir)
            var loaded: [EnvelopeID: UInt64] = [:]
            try store.forEachEnvelope { id, expiresAt in loaded[id] = expiresAt }
            #expect(loaded == [e.id: Fixture.expiry, relayed.id: 4242])
            let inbox = try store.inbox(limit: 10, since: nil, unreadOnly: false)
            #expect(inbox.map(\.text) == ["kept"])
            #expect(inbox.first?.read == true)
            #expect(inbox.first?.senderName == "alice")
            #expect(try store.followed() == [Fixture.carol.publicKey.bytes])
            #expect(try store.commit([(e, m, 200)]) == [false], "a message seen before the restart is not new")
        }
    }

    @Test("the database and its WAL files are private to the owner (0600), whatever the umask")
    func fileModes() async throws {
        try await withScratchDir("store") { dir in
            let store = try Self.open(dir)
            _ = try store.commit([(Fixture.opaque(), nil, 1)])
            for f in ["estafette.sqlite", "estafette.sqlite-wal", "estafette.sqlite-shm"] {
                #expect(try mode(of: dir + "/" + f) == 0o600, "\(f)")
            }
        }
    }

    @Test("a database that cannot be opened is an error, not a crash")
    func unusableFile() async throws {
        try await withScratchDir("store") { dir in
            #expect(throws: (any Error).self) { try Store(path: dir + "/missing/dir/estafette.sqlite") }
            let garbage = dir + "/garbage.sqlite"
            try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: garbage))
            #expect(throws: (any Error).self) { try Store(path: garbage) }
        }
    }
}
