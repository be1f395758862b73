import EstafetteCore
import Foundation
import GRDB
import NIOConcurrencyHelpers
import Testing

@testable import EstafetteNode

/// The store's relay parts: relays added at run time, the link key recorded per envelope, usage kept exact by
/// triggers, and the quota's admission and eviction.
@Suite("Store relay")
struct StoreRelayTests {
    static func open(_ dir: String) throws -> Store { try Store(path: dir + "/estafette.sqlite") }
    static let keyA = [UInt8](repeating: 0xA1, count: 32)
    static let keyB = [UInt8](repeating: 0xB2, count: 32)
    /// The encoded size of `Fixture.opaque(size: 1000)`.
    static let size1000 = Fixture.opaque(size: 1000).bytes.count

    @Test("relays added at run time are kept in order, across a reopen; same address again is a no-op or a conflict")
    func relayList() async throws {
        try await withScratchDir("relaystore") { dir in
            let store = try Self.open(dir)
            try store.addRelay(address: "b.example:1", id: "es1b", at: 10)
            try store.addRelay(address: "a.example:1", id: "es1a", at: 11)
            try store.addRelay(address: "b.example:1", id: "es1b", at: 12)
            #expect(throws: Store.RelayConflict.addressTaken(existingID: "es1b")) {
                try store.addRelay(address: "b.example:1", id: "es1c", at: 13)
            }
            let reopened = try Self.open(dir)
            #expect(
                try reopened.relays() == [
                    .init(address: "b.example:1", id: "es1b"), .init(address: "a.example:1", id: "es1a"),
                ])
            #expect(try reopened.removeRelay(address: "b.example:1"))
            #expect(try !reopened.removeRelay(address: "b.example:1"))
            #expect(try reopened.relays() == [.init(address: "a.example:1", id: "es1a")])
        }
    }

    @Test("usage per link key follows inserts, the expiry sweep and deletes; the key is recorded at commit")
    func usageFollowsTheStore() async throws {
        try await withScratchDir("relaystore") { dir in
            let store = try Self.open(dir)
            let lan = Fixture.opaque(expiresAt: 1000, size: 100)
            let fromA = Fixture.opaque(expiresAt: 2000, size: 200)
            let fromB = Fixture.opaque(expiresAt: 3000, size: 300)
            #expect(store.linkAttribution.record(fromA.id, key: Self.keyA, size: Int64(fromA.bytes.count), now: 0))
            #expect(store.linkAttribution.record(fromB.id, key: Self.keyB, size: Int64(fromB.bytes.count), now: 0))
            _ = try store.commit([(lan, nil, 1), (fromA, nil, 1), (fromB, nil, 1)])
            _ = try store.commit([(lan, nil, 1)])  // a duplicate changes nothing
            #expect(try store.linkKey(of: lan.id) == nil)
            #expect(try store.linkKey(of: fromA.id) == Self.keyA)
            #expect(try store.linkKey(of: fromB.id) == Self.keyB)
            var u = try store.relayUsage()
            #expect(u.envelopes == 3)
            #expect(u.bytes == Int64(lan.bytes.count + fromA.bytes.count + fromB.bytes.count))
            #expect(u.bytes(of: nil) == Int64(lan.bytes.count))
            #expect(u.bytes(of: Self.keyA) == Int64(fromA.bytes.count))
            #expect(try store.deleteExpired(upTo: 2000) == 2)
            u = try store.relayUsage()
            #expect(u.envelopes == 1)
            #expect(u.bytes == Int64(fromB.bytes.count))
            #expect(u.bytes(of: Self.keyA) == 0)
            #expect(u.perKey.keys.map { $0 } == [Self.keyB])
            // The sum matches a full count, whatever happened.
            let counted = try store.pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM envelope") ?? -1
            }
            #expect(counted == u.bytes)
        }
    }

    @Test("the share rule: known keys max(quota/8, quota/known), unknown quota/32 when anyone may link, else 0")
    func shares() {
        let q: Int64 = 32 << 20
        let open = RelayQuotaPolicy(maxBytes: q, pinnedKeys: [Self.keyA])
        #expect(open.share(of: Self.keyA) == q, "the only known key may use the whole quota")
        #expect(open.share(of: Self.keyB) == q / 32)
        let many = Set((0..<16).map { [UInt8](repeating: UInt8($0), count: 32) })
        let listed = RelayQuotaPolicy(maxBytes: q, allowLinkKeys: many)
        #expect(listed.share(of: [UInt8](repeating: 3, count: 32)) == q / 8, "never below an eighth")
        #expect(listed.share(of: Self.keyB) == 0, "not on the allow list")
        let four = RelayQuotaPolicy(maxBytes: q, allowLinkKeys: Set(many.prefix(4)))
        #expect(four.share(of: many.prefix(4).first!) == q / 4)
    }

    @Test("a key over its share is refused; a full store evicts what expires soonest; a sooner newcomer is refused")
    func admission() async throws {
        try await withScratchDir("relayquota") { dir in
            let store = try Self.open(dir)
            // 1 MiB quota, anyone may link: an unknown key's share is 32 KiB.
            let quota = RelayQuota(store: store, policy: RelayQuotaPolicy(maxBytes: 1 << 20))
            var admittedA = 0
            var refusedA = 0
            for i in 0..<60 {
                let e = Fixture.opaque(expiresAt: 10_000 + UInt64(i), size: 1000)
                switch try quota.admit(e.id, size: e.bytes.count, expiresAt: e.expiresAt, linkKey: Self.keyA, now: 0) {
                case .admitted(let evicted):
                    #expect(evicted.isEmpty)
                    _ = try store.commit([(e, nil, 1)])
                    admittedA += 1
                case .refusedOverShare: refusedA += 1
                case .refusedFull: Issue.record("not full yet")
                }
            }
            #expect(admittedA == 32 * 1024 / Self.size1000, "about 32 KiB of 1 KiB envelopes: \(admittedA)")
            #expect(refusedA == 60 - admittedA)
            #expect(try store.relayUsage().bytes(of: Self.keyA) <= 32 * 1024)
            // Fill the rest from the LAN (no key), expiring later than A's.
            var lan: [StoredEnvelope] = []
            while try store.relayUsage().bytes < (1 << 20) - 2000 {
                let e = Fixture.opaque(expiresAt: 50_000 + UInt64(lan.count), size: 4000)
                lan.append(e)
                _ = try store.commit([(e, nil, 1)])
            }
            // B (pinned: may use the whole quota) brings one that expires after A's: A's soonest go first.
            quota.policy.pinnedKeys = [Self.keyB]
            let b = Fixture.opaque(expiresAt: 60_000, size: 8000)
            let result = try quota.admit(b.id, size: b.bytes.count, expiresAt: b.expiresAt, linkKey: Self.keyB, now: 0)
            guard case .admitted(let evicted) = result else {
                Issue.record("expected admission, got \(result)")
                return
            }
            #expect(!evicted.isEmpty)
            #expect(try store.envelopes(evicted).isEmpty, "evicted envelopes are deleted")
            let remainingA = try store.pool.read { db in
                try Int64.fetchAll(
                    db, sql: "SELECT expires_at FROM envelope WHERE link_key = ?", arguments: [Data(Self.keyA)])
            }
            #expect(remainingA.allSatisfy { $0 > 10_000 + Int64(evicted.count) - 1 }, "soonest-expiring went first")
            _ = try store.commit([(b, nil, 1)])
            #expect(try store.linkKey(of: b.id) == Self.keyB)
            #expect(try store.relayUsage().bytes <= 1 << 20)
            // One that would expire before everything stored is refused rather than evicting later mail.
            let soon = Fixture.opaque(expiresAt: 5, size: 8000)
            #expect(
                try quota.admit(soon.id, size: soon.bytes.count, expiresAt: 5, linkKey: Self.keyB, now: 0)
                    == .refusedFull)
            let f = try quota.figures()
            #expect(f.evictions == Int64(evicted.count))
            #expect(f.refusedOverShare == Int64(refusedA))
            #expect(f.refusedFull == 1)
            #expect(f.maxBytes == 1 << 20)
            #expect(f.linkKeys == 2)
        }
    }

    @Test("admitted but uncommitted bytes count toward the share, until they are stale")
    func pendingCounts() async throws {
        try await withScratchDir("relayquota") { dir in
            let store = try Self.open(dir)
            let quota = RelayQuota(store: store, policy: RelayQuotaPolicy(maxBytes: 1 << 20))
            var admitted = 0
            for i in 0..<40 {
                let e = Fixture.opaque(expiresAt: 10_000 + UInt64(i), size: 1000)
                if case .admitted = try quota.admit(e.id, size: e.bytes.count, expiresAt: 1, linkKey: Self.keyA, now: 0)
                {
                    admitted += 1
                }
            }
            #expect(admitted == 32 * 1024 / Self.size1000)
            let late = Fixture.opaque(size: 1000)
            #expect(
                try quota.admit(
                    late.id, size: Self.size1000, expiresAt: 1, linkKey: Self.keyA, now: LinkAttribution.maxAgeMillis)
                    != .refusedOverShare, "stale reservations are dropped")
        }
    }

    @Test("admit(encoded:) reads the envelope's ID and expiry; evicted IDs reach the sink; non-envelopes pass")
    func admitEncoded() async throws {
        try await withScratchDir("relayquota") { dir in
            let store = try Self.open(dir)
            let quota = RelayQuota(store: store, policy: RelayQuotaPolicy(maxBytes: 1 << 20, pinnedKeys: [Self.keyA]))
            let sunk = NIOLockedValueBox<[EnvelopeID]>([])
            quota.onEviction { ids in sunk.withLockedValue { $0 += ids } }
            var filler: [StoredEnvelope] = []
            while try store.relayUsage().bytes < (1 << 20) - 30_000 {
                let e = Fixture.opaque(expiresAt: 1000 + UInt64(filler.count), size: 30_000)
                filler.append(e)
                _ = try store.commit([(e, nil, 1)])
            }
            let late = Fixture.opaque(expiresAt: 9_999, size: 32_000)
            let result = try await quota.admit(encoded: late.bytes, linkKey: Self.keyA, now: 0)
            #expect(result == .admitted(evicted: [filler[0].id]), "the soonest-expiring one goes")
            #expect(sunk.withLockedValue { $0 } == [filler[0].id])
            _ = try store.commit([(late, nil, 1)])
            #expect(try store.linkKey(of: late.id) == Self.keyA)
            #expect(try await quota.admit(encoded: [1, 2, 3], linkKey: Self.keyA, now: 0) == .admitted(evicted: []))
        }
    }

    @Test("the relay migration counts the envelopes already stored by an older version")
    func migrationCountsExisting() async throws {
        try await withScratchDir("relaystore") { dir in
            let path = dir + "/estafette.sqlite"
            let e1 = Fixture.opaque(size: 100)
            let e2 = Fixture.opaque(size: 200)
            do {
                let old = try DatabaseQueue(path: path)
                try Store.migrator.migrate(old, upTo: "v1")
                try old.write { db in
                    for e in [e1, e2] {
                        try db.execute(
                            sql:
                                "INSERT INTO envelope (id, kind, expires_at, received_at, data) VALUES (?, ?, ?, ?, ?)",
                            arguments: [Data(e.id.bytes), Int(e.kind.rawValue), Int64(e.expiresAt), 1, Data(e.bytes)])
                    }
                }
            }
            let store = try Store(path: path)
            let u = try store.relayUsage()
            #expect(u.envelopes == 2)
            #expect(u.bytes == Int64(e1.bytes.count + e2.bytes.count))
            #expect(u.bytes(of: nil) == u.bytes)
            #expect(try store.linkKey(of: e1.id) == nil)
        }
    }
}
