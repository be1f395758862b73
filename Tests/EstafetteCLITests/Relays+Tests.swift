import ArgumentParser
import EstafetteAPI
import Testing

@testable import estafette

/// `estafette relays` (list, add, rm), `estafette export` and `estafette import`: parsing and output.
@Suite(.plainEnglish) struct RelaysCLITests {
    @Test func relaysSubcommands() throws {
        #expect(try Estafette.parseAsRoot(["relays"]) is Estafette.Relays.List, "list is the default")
        #expect(try Estafette.parseAsRoot(["relays", "ls"]) is Estafette.Relays.List)
        let add = try #require(
            try Estafette.parseAsRoot(["relays", "add", "r.example:4546", "es1abc"]) as? Estafette.Relays.Add)
        #expect(add.address == "r.example:4546")
        #expect(add.id == "es1abc")
        let rm = try #require(
            try Estafette.parseAsRoot(["relays", "rm", "r.example:4546"]) as? Estafette.Relays.Remove)
        #expect(rm.address == "r.example:4546")
        #expect(try Estafette.parseAsRoot(["relays", "remove", "x:1"]) is Estafette.Relays.Remove)
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["relays", "add", "r.example:4546"]) }
        let hoisted = Estafette.hoistGlobalOptions(["--json", "relays", "add", "r:1", "es1x"])
        #expect(hoisted == ["relays", "add", "--json", "r:1", "es1x"])
        #expect((try Estafette.parseAsRoot(hoisted) as? Estafette.Relays.Add)?.options.json == true)
    }

    @Test func exportAndImport() throws {
        let export = try #require(
            try Estafette.parseAsRoot(["export", "/media/stick/b.bundle", "--since", "6h"]) as? Estafette.Export)
        #expect(export.file == "/media/stick/b.bundle")
        #expect(export.since == "6h")
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["export", "x", "--since", "yesterday"]) }
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["export"]) }
        let imp = try #require(try Estafette.parseAsRoot(["import", "b.bundle"]) as? Estafette.Import)
        #expect(imp.file == "b.bundle")
    }

    @Test func sinceForms() {
        let now: Int64 = 1_800_000_000
        #expect(parseSince("1700000000", now: now) == 1_700_000_000)
        #expect(parseSince("90m", now: now) == now - 5400)
        #expect(parseSince("6h", now: now) == now - 6 * 3600)
        #expect(parseSince("2d", now: now) == now - 2 * 86400)
        #expect(parseSince("45s", now: now) == now - 45)
        #expect(parseSince("2024-01-01T00:00:00Z", now: now) == 1_704_067_200)
        #expect(parseSince("2026-11-30T12:34:56Z", now: now) == 1_796_042_096)
        for bad in ["", "h", "-5", "5w", "2024-01-01", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00", "soon"] {
            #expect(parseSince(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func relativePathsBecomeAbsolute() {
        #expect(absolutePath("/abs/b.bundle") == "/abs/b.bundle")
        #expect(absolutePath("b.bundle").hasPrefix("/"))
        #expect(absolutePath("./b.bundle").hasSuffix("/b.bundle") && !absolutePath("./b.bundle").contains("/./"))
    }

    @Test func relaysListOutput() {
        let list = RelaysList(relays: [
            RelayInfo(
                address: "r.example:4546", id: "es1abc", state: "live", last_sync: 1000 - 7_300, envelopes_sent: 3,
                envelopes_received: 4, source: "config"),
            RelayInfo(
                address: "10.0.0.2:4546", id: "es1def", state: "idle", last_sync: nil, envelopes_sent: 0,
                envelopes_received: 0, source: "api"),
        ])
        let text = Estafette.Relays.List.describe(list, now: 1000)
        #expect(
            text == """
                ADDRESS         ID      STATE  LAST SYNC  SENT  RECEIVED  SOURCE
                r.example:4546  es1abc  live   2 h ago    3     4         config
                10.0.0.2:4546   es1def  idle   never      0     0         api
                """)
        #expect(Estafette.Relays.List.describe(RelaysList(relays: []), now: 0) == "No relays.")
    }

    @Test func idAndStatusShowTheRelayParts() {
        let id = Estafette.ID.describe(IdentityInfo(id: "es1x", fingerprint: "ab cd", link_key: "00ff"))
        #expect(id.contains("Link key:     00ff"))
        let r = RelayStatus(
            enabled: true, envelopes: 12, bytes: 3400, quota: 1 << 20, evictions: 2, refused_over_share: 0,
            refused_full: 0, links: 1, link_keys: 1)
        #expect(relayLine(r) == "Relay:      on, 12 envelopes, 3400 of 1048576 bytes, 2 evicted, 1 link")
    }
}
