import EstafetteCore
import EstafetteNode
import Foundation
import Testing

/// Issue 9 in the store: one authored message in the inbox whatever envelope carried it, the quota's eviction
/// order, the inbox's retention, and the own alert counter surviving it.
@Suite("Store bounds")
struct StoreBoundsTests {
    static func open(_ dir: String) throws -> Store { try Store(path: dir + "/estafette.sqlite") }

    @Test("a message carried by a second envelope (same sender and nonce, another ID) enters the inbox once")
    func authoredDedup() async throws {
        try await withScratchDir("bounds") { dir in
            let store = try Self.open(dir)
            let (first, m1) = try Fixture.direct("once")
            // The recipient's own key re-seals the same inner box: another body, another ID, the same message.
            let envelope = try Envelope(decoding: first.bytes)
            let padded = try Fixture.bob.openSealed(envelope.body)
            var copy = envelope
            copy.body = try SealedBox.seal(padded, to: Fixture.bob.publicKey.boxPublicKey())
            let second = Fixture.stored(copy)
            let m2 = try DirectMessage.open(copy, id: second.id, with: Fixture.bob)
            #expect(second.id != first.id && m2.authorNonce == m1.authorNonce)
            #expect(try store.commit([(first, m1, 100)]) == [true])
            #expect(try store.commit([(second, m2, 101)]) == [false])
            #expect(try store.inbox(limit: 10, since: nil, unreadOnly: false).count == 1)
            // Alerts: one per author and sequence number.
            let (a1, am1) = try Fixture.alert("seq 7", by: Fixture.carol, sequence: 7)
            let (a2, am2) = try Fixture.alert("seq 7, other text", by: Fixture.carol, sequence: 7)
            #expect(try store.commit([(a1, am1, 102), (a2, am2, 103)]) == [true, false])
        }
    }

    @Test("eviction takes carried envelopes first, soonest to expire first, then followed alerts, then mine")
    func evictionOrder() async throws {
        try await withScratchDir("bounds") { dir in
            let store = try Self.open(dir)
            try store.follow(key: Fixture.carol.publicKey.bytes, at: 1)
            let carriedLate = Fixture.opaque(expiresAt: Fixture.expiry + 100)
            let carriedSoon = Fixture.opaque(expiresAt: Fixture.expiry)
            let (unfollowed, um) = try Fixture.alert("stranger", by: Fixture.alice, sequence: 1)
            let (followed, fm) = try Fixture.alert(
                "friend", by: Fixture.carol, sequence: 1, expiresAt: Fixture.expiry - 100)
            let (forMe, dm) = try Fixture.direct("for me", expiresAt: Fixture.expiry - 200)
            let mine = Fixture.opaque(expiresAt: Fixture.expiry - 300)
            _ = try store.commit(
                [
                    (carriedLate, nil, 1), (carriedSoon, nil, 1), (unfollowed, um, 1), (followed, fm, 1),
                    (forMe, dm, 1), (mine, nil, 1),
                ], local: [mine.id])
            let total = try store.envelopeBytes()
            #expect(
                total
                    == Int64(
                        [carriedLate, carriedSoon, unfollowed, followed, forMe, mine].map(\.bytes.count).reduce(0, +)))
            var order: [EnvelopeID] = []
            for _ in 0..<6 {
                let (ids, freed) = try store.evict(bytes: 1)
                #expect(ids.count == 1 && freed > 0)
                order += ids
            }
            // The unfollowed alert expires sooner than carriedLate: both are merely carried.
            #expect(
                order == [unfollowed.id, carriedSoon.id, carriedLate.id, followed.id, mine.id, forMe.id]
                    || order == [carriedSoon.id, unfollowed.id, carriedLate.id, followed.id, mine.id, forMe.id])
            #expect(try store.envelopeCount() == 0 && store.envelopeBytes() == 0)
            #expect(try store.evict(bytes: 1).ids.isEmpty)
        }
    }

    @Test("the inbox keeps its newest max_messages, unfollowed alerts leaving first, and drops old ones")
    func inboxRetention() async throws {
        try await withScratchDir("bounds") { dir in
            let store = try Self.open(dir)
            try store.follow(key: Fixture.carol.publicKey.bytes, at: 1)
            var items: [(StoredEnvelope, ReceivedMessage?, Int64)] = []
            for i in 0..<5 { let (e, m) = try Fixture.direct("dm \(i)"); items.append((e, m, 1_000 + Int64(i))) }
            for i in 0..<5 {
                let (e, m) = try Fixture.alert("stranger \(i)", by: Fixture.alice, sequence: UInt64(i + 1))
                items.append((e, m, 2_000 + Int64(i)))
            }
            let (f, fm) = try Fixture.alert("friend", by: Fixture.carol, sequence: 1)
            items.append((f, fm, 500))
            _ = try store.commit(items)
            #expect(try store.pruneInbox(maxMessages: 8, receivedBefore: nil) == 3)
            let left = try store.inbox(limit: 100, since: nil, unreadOnly: false)
            #expect(left.filter { $0.kind == "direct" }.count == 5)
            #expect(left.filter { $0.followed }.count == 1)
            #expect(left.filter { $0.kind == "alert" && !$0.followed }.map(\.receivedAt) == [2_004, 2_003])
            #expect(try store.pruneInbox(maxMessages: 100, receivedBefore: 1_003) == 4)
            #expect(try store.inbox(limit: 100, since: nil, unreadOnly: false).count == 4)
        }
    }

    @Test("this node's last alert number survives the inbox losing it")
    func ownAlertSequenceSurvivesPruning() async throws {
        try await withScratchDir("bounds") { dir in
            let store = try Self.open(dir)
            let (e, m) = try Fixture.alert("mine", by: Fixture.alice, sequence: 42)
            _ = try store.commit([(e, m, 1)], local: [e.id])
            try store.pruneInbox(maxMessages: 100, receivedBefore: 10)
            #expect(try store.inbox(limit: 10, since: nil, unreadOnly: false).isEmpty)
            #expect(try store.lastAlertSequence(author: Fixture.alice.publicKey.bytes) == 42)
            #expect(try store.lastAlertCreatedAt(author: Fixture.alice.publicKey.bytes) == Fixture.now)
        }
    }
}
