import EstafetteCore
import EstafetteTestKit
import Foundation
import GRDB
import Testing

@testable import EstafetteNode

/// Sealed at rest (issue 10): what the files of a data directory hold, byte for byte, and the migration of a
/// plain data directory.
@Suite("Sealed store")
struct SealedStoreTests {
    static let text = "meet at the bakery on rue Oberkampf at 7"
    static let alert = "roadblock on the north bridge"

    /// Every needle that must not appear in the clear: the message texts, the contact name, every ID (raw,
    /// hex, es1 text).
    static func needles(names: [String], keys: [SigningKeyPair], texts: [String]) -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for t in texts { out.append(("text '\(t)'", Array(t.utf8))) }
        for n in names { out.append(("name '\(n)'", Array(n.utf8))) }
        for k in keys {
            let raw = k.publicKey.bytes
            out.append(("raw key", raw))
            out.append(("hex key", Array(raw.map { String(format: "%02x", $0) }.joined().utf8)))
            out.append(("ID", Array(PublicID(key: k.publicKey).description.utf8)))
        }
        return out
    }

    @Test("texts, names and IDs are nowhere in the clear in the database, its WAL and its shm, open or closed")
    func nothingInTheClear() async throws {
        try await withScratchDir("sealed") { dir in
            let needles = Self.needles(
                names: ["Zoé Marchetti"], keys: [Fixture.alice, Fixture.carol], texts: [Self.text])
            do {
                let store = try Store(path: dir + "/estafette.sqlite")
                try store.addContact(name: "Zoé Marchetti", key: Fixture.alice.publicKey.bytes)
                try store.follow(key: Fixture.carol.publicKey.bytes, at: 5)
                let (d, dm) = try Fixture.direct(Self.text, from: Fixture.alice, to: Fixture.bob)
                _ = try store.commit([(d, dm, 100)])
                // While open: the WAL holds the latest pages.
                try expectNothingInTheClear(dir, needles)
                let rows = try store.inbox(limit: 10, since: nil, unreadOnly: false)
                #expect(rows.map(\.text) == [Self.text])
                #expect(rows.first?.senderName == "Zoé Marchetti")
                #expect(rows.first?.sender == Fixture.alice.publicKey.bytes)
                #expect(try store.contacts().map(\.name) == ["Zoé Marchetti"])
                #expect(try store.contactKey(name: "Zoé Marchetti") == Fixture.alice.publicKey.bytes)
                #expect(try store.followed() == [Fixture.carol.publicKey.bytes])
                #expect(try store.unfollow(key: Fixture.carol.publicKey.bytes))
                try store.follow(key: Fixture.carol.publicKey.bytes, at: 6)
                #expect(try store.removeContact(name: "Zoé Marchetti"))
                try store.addContact(name: "Zoé Marchetti", key: Fixture.alice.publicKey.bytes)
                #expect(throws: Store.ContactConflict.self) {
                    try store.addContact(name: "Zoé Marchetti", key: Fixture.carol.publicKey.bytes)
                }
                try expectNothingInTheClear(dir, needles)
            }
            // Closed, and opened again: everything reads back.
            try expectNothingInTheClear(dir, needles)
            let again = try Store(path: dir + "/estafette.sqlite")
            #expect(try again.inbox(limit: 10, since: nil, unreadOnly: false).map(\.text) == [Self.text])
            #expect(try again.contactKey(name: "Zoé Marchetti") == Fixture.alice.publicKey.bytes)
            #expect(try mode(of: dir + "/data.key") == 0o600)
        }
    }

    @Test("a store with another data key is refused with a clear message, and nothing is changed")
    func wrongDataKey() async throws {
        try await withScratchDir("sealed") { dir in
            do {
                let store = try Store(path: dir + "/estafette.sqlite")
                try store.addContact(name: "x", key: Fixture.alice.publicKey.bytes)
            }
            let other = AtRestKey.randomDataKey()
            var thrown: (any Error)?
            do { _ = try Store(path: dir + "/estafette.sqlite", dataKey: other) } catch { thrown = error }
            #expect("\(thrown.map { "\($0)" } ?? "")".contains("does not open this database"))
            #expect(try Store(path: dir + "/estafette.sqlite").contacts().map(\.name) == ["x"])
        }
    }

    /// Writes a database in the previous version's plain layout, with its rows as it wrote them: 50 direct
    /// messages from Alice to Bob (their envelopes too), an alert by Carol, Alice as contact "Zoé Marchetti",
    /// Carol followed, her own-alert counter at 9. Returns the direct messages' IDs.
    static func writePlainLayout(path: String) async throws -> [[UInt8]] {
        let old = try DatabasePool(path: path)
        // The last release's migrations end with relay-v1 (channels-v1 and the sealing came after it).
        try Store.migrator.migrate(old, upTo: "relay-v1")
        let ids = try await old.write { db in
            var ids: [[UInt8]] = []
            for i in 0..<50 {
                let (e, m) = try Fixture.direct("\(Self.text) #\(i)", from: Fixture.alice, to: Fixture.bob)
                try db.execute(
                    sql:
                        "INSERT INTO envelope (id, kind, expires_at, received_at, data, keep) VALUES (?,?,?,?,?,2)",
                    arguments: [
                        Data(e.id.bytes), Int(e.kind.rawValue), Int64(e.expiresAt), 100 + i, Data(e.bytes),
                    ])
                try db.execute(
                    sql: """
                        INSERT INTO inbox (message_id, kind, sender, text, created_at, received_at, author_nonce)
                        VALUES (?, 'direct', ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Data(m.id.bytes), Data(m.sender.bytes), Data(m.text.utf8), Int64(m.createdAt),
                        100 + i, Data(m.authorNonce),
                    ])
                ids.append(m.id.bytes)
            }
            let (_, am) = try Fixture.alert(Self.alert, by: Fixture.carol, sequence: 3)
            try db.execute(
                sql: """
                    INSERT INTO inbox (message_id, kind, sender, text, created_at, received_at, seq, author_nonce)
                    VALUES (?, 'alert', ?, ?, ?, 200, 3, ?)
                    """,
                arguments: [
                    Data(am.id.bytes), Data(am.sender.bytes), Data(am.text.utf8), Int64(am.createdAt),
                    Data(am.authorNonce),
                ])
            try db.execute(
                sql: "INSERT INTO contact (name, pk) VALUES (?, ?)",
                arguments: ["Zoé Marchetti", Data(Fixture.alice.publicKey.bytes)])
            try db.execute(
                sql: "INSERT INTO follow (pk, followed_at) VALUES (?, 5)",
                arguments: [Data(Fixture.carol.publicKey.bytes)])
            try db.execute(
                sql: "INSERT INTO own_alert (author, seq, created_at) VALUES (?, 9, 10)",
                arguments: [Data(Fixture.carol.publicKey.bytes)])
            return ids
        }
        try old.close()
        return ids
    }

    @Test("a plain data directory of the previous version is sealed in place on first open; nothing is lost")
    func migratesPlainLayout() async throws {
        try await withScratchDir("sealed") { dir in
            let path = dir + "/estafette.sqlite"
            // The previous version's layout and rows, written as it wrote them.
            let ids = try await Self.writePlainLayout(path: path)
            let plain = try rawBytes(path)
            #expect(holds(plain, Array(Self.text.utf8)), "the plain layout holds the text: the test can fail")

            let store = try Store(path: path)
            let rows = try store.inbox(limit: 1000, since: nil, unreadOnly: false)
            #expect(rows.count == 51)
            #expect(Set(rows.filter { $0.kind == "direct" }.map(\.messageID)) == Set(ids))
            #expect(Set(rows.map(\.text)) == Set((0..<50).map { "\(Self.text) #\($0)" } + [Self.alert]))
            #expect(rows.filter { $0.kind == "direct" }.allSatisfy { $0.senderName == "Zoé Marchetti" })
            #expect(rows.first { $0.kind == "alert" }?.followed == true)
            #expect(try store.contacts().map(\.name) == ["Zoé Marchetti"])
            #expect(try store.contactKey(name: "Zoé Marchetti") == Fixture.alice.publicKey.bytes)
            #expect(try store.followed() == [Fixture.carol.publicKey.bytes])
            #expect(try store.lastAlertSequence(author: Fixture.carol.publicKey.bytes) == 9)
            #expect(try store.envelopeCount() == 50)
            try expectNothingInTheClear(
                dir, Self.needles(names: ["Zoé Marchetti"], keys: [Fixture.alice, Fixture.carol], texts: [Self.text]))
        }
    }

    @Test(
        "a daemon started on the previous version's data directory seals it in place and shows every message",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(2)))
    func daemonMigratesPlainDirectory() async throws {
        try await withScratchDir("sealed-daemon") { root in
            let (group, port) = randomGroupAndPort()
            let bob = try Daemon(name: "bob", root: root, group: group, port: port)
            #expect(mkdir(bob.dataDir, 0o700) == 0)
            // The previous version's data directory: Bob's identity file (the plain format, unchanged) and a
            // database in the plain layout; no data.key.
            try IdentityFile.write(Fixture.bob, to: bob.dataDir + "/identity.key")
            let ids = try await Self.writePlainLayout(path: bob.dataDir + "/estafette.sqlite")
            #expect(holds(try rawBytes(bob.dataDir + "/estafette.sqlite"), Array(Self.text.utf8)))

            try await bob.start()
            defer { _ = bob.stop() }
            let shown = try bob.call("inbox.list", ["limit": 1000])["messages"] as? [[String: Any]] ?? []
            #expect(shown.count == 51)
            let direct = shown.filter { $0["kind"] as? String == "direct" }
            #expect(Set(direct.compactMap { $0["message_id"] as? String }) == Set(ids.map(Self.hex)))
            #expect(
                Set(shown.compactMap { $0["text"] as? String })
                    == Set((0..<50).map { "\(Self.text) #\($0)" } + [Self.alert]))
            #expect(direct.allSatisfy { $0["from_name"] as? String == "Zoé Marchetti" }, "\(direct.first ?? [:])")
            let contacts = try bob.call("contacts.list")["contacts"] as? [[String: Any]] ?? []
            #expect(contacts.compactMap { $0["name"] as? String } == ["Zoé Marchetti"])
            let id = try bob.call("identity.show")["id"] as? String
            #expect(id == PublicID(key: Fixture.bob.publicKey).description)
            #expect(await bob.stop() == 0, "\(bob.logTail())")

            try expectNothingInTheClear(
                bob.dataDir,
                Self.needles(names: ["Zoé Marchetti"], keys: [Fixture.alice, Fixture.carol], texts: [Self.text]))
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("a key file or data directory that others may read or write is refused, naming the file and why")
    func refusesOpenModes() async throws {
        try await withScratchDir("sealed") { dir in
            let path = dir + "/data.key"
            let (key, created) = try DataKeyFile.loadOrCreate(path: path)
            #expect(created)
            #expect(try DataKeyFile.loadOrCreate(path: path).key.exposedCopy() == key.exposedCopy())
            #expect(chmod(path, 0o640) == 0)
            var message = ""
            do { _ = try DataKeyFile.loadOrCreate(path: path) } catch { message = "\(error)" }
            #expect(message.contains(path) && message.contains("group can read") && message.contains("chmod 600"))
            let id = dir + "/identity.key"
            _ = try IdentityFile.loadOrCreate(path: id)
            #expect(chmod(id, 0o606) == 0)
            message = ""
            do { _ = try IdentityFile.loadOrCreate(path: id) } catch { message = "\(error)" }
            #expect(message.contains(id) && message.contains("others can write"), "\(message)")
            let sub = dir + "/d"
            #expect(mkdir(sub, 0o755) == 0)
            #expect(chmod(sub, 0o755) == 0)
            message = ""
            do { try SecretFile.checkDirectory(sub) } catch { message = "\(error)" }
            #expect(message.contains(sub) && message.contains("others can read") && message.contains("chmod 700"))
            #expect(chmod(sub, 0o700) == 0)
            try SecretFile.checkDirectory(sub)
        }
    }
}

func holds(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { rawSearch(haystack, for: needle) }

func rawBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Searches the raw bytes of every file in `dir` (not following links) for each needle.
func expectNothingInTheClear(
    _ dir: String, _ needles: [(String, [UInt8])], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: dir)
    #expect(!files.isEmpty, sourceLocation: sourceLocation)
    for f in files {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue else {
            continue
        }
        let bytes = try rawBytes(dir + "/" + f)
        for (what, needle) in needles {
            #expect(!holds(bytes, needle), "\(what) in the clear in \(f)", sourceLocation: sourceLocation)
        }
    }
}
