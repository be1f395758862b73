import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// The exchange every multi-host test runs, on whatever network the daemons share.
///
/// A→B direct message reaches B's subscription and inbox, and nobody else's inbox in readable form; C stores the
/// envelope; an alert from A reaches everyone; a 20 KB message (fragmented) arrives whole; a stopped node catches
/// up on what it missed without duplicates; a restarted node keeps identity, contacts and inbox.
func runMeshScenario(_ a: Daemon, _ b: Daemon, _ c: Daemon) async throws {
    for d in [a, b, c] { try await d.start() }
    let (idA, idB, idC) = (try await a.id(), try await b.id(), try await c.id())
    #expect(Set([idA, idB, idC]).count == 3)
    for d in [a, b, c] {
        try await waitUntil("\(d.name) sees two peers") { try await d.status().peers >= 2 }
    }

    _ = try await a.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: idB), as: OK.self)
    _ = try await b.call(RPC.Method.contactsAdd, ContactsAddParams(name: "alice", id: idA), as: OK.self)
    let watchB = try await Watcher(b)
    defer { watchB.cancel() }

    // 1. Direct message A → B.
    let sent = try await a.call(
        RPC.Method.messagesSend, MessagesSendParams(to: "bob", text: "hello bob"), as: MessageSent.self)
    try await waitUntil("B's subscription gets the direct message") {
        watchB.received.contains { $0.message_id == sent.message_id }
    }
    let got = try #require(watchB.received.first { $0.message_id == sent.message_id })
    #expect(got.kind == "direct")
    #expect(got.text == "hello bob")
    #expect(got.from == idA)
    #expect(got.from_name == "alice")
    #expect(try await b.inbox().contains { $0.message_id == sent.message_id && $0.text == "hello bob" })
    try await waitUntil("C stores the envelope") { try await c.status().envelopes >= 1 }
    #expect(try await c.inbox().isEmpty, "C must not read A's message to B")
    #expect(try await a.inbox().isEmpty, "the sender's inbox holds no copy")
    #expect(try await c.status().counters["messages_delivered", default: 0] == 0)

    // 2. An alert from A reaches everyone.
    let alert = try await a.call(
        RPC.Method.alertsPost, AlertsPostParams(text: "checkpoint on the north bridge"), as: MessageSent.self)
    for d in [b, c] {
        try await waitUntil("\(d.name) gets the alert") {
            try await d.inbox().contains {
                $0.message_id == alert.message_id && $0.kind == "alert" && $0.from == idA
                    && $0.text == "checkpoint on the north bridge"
            }
        }
    }

    // 3. A 20 KB message is fragmented and arrives whole.
    let letters: [UInt8] = (0..<20_000).map { (i: Int) -> UInt8 in UInt8(97 + (i * 7 + i / 26) % 26) }
    let big = String(decoding: letters, as: UTF8.self)
    let bigSent = try await a.call(
        RPC.Method.messagesSend, MessagesSendParams(to: idB, text: big), as: MessageSent.self)
    try await waitUntil("B gets the 20 KB message") {
        watchB.received.contains { $0.message_id == bigSent.message_id }
    }
    #expect(watchB.received.first { $0.message_id == bigSent.message_id }?.text == big)

    // 4. C is away while A writes to it; it catches up when it returns, once each.
    await c.stopCleanly()
    var missed: [String] = []
    for i in 1...2 {
        missed.append(
            try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: idC, text: "while you were away \(i)"),
                as: MessageSent.self
            ).message_id)
    }
    missed.append(
        try await a.call(RPC.Method.alertsPost, AlertsPostParams(text: "second alert"), as: MessageSent.self).message_id
    )
    try await c.start()
    try await waitUntil("C catches up on what it missed", timeout: 30) {
        let ids = Set(try await c.inbox().map(\.message_id))
        return missed.allSatisfy(ids.contains)
    }
    let envelopesA = try await a.status().envelopes
    try await waitUntil("C holds every envelope A holds") { try await c.status().envelopes == envelopesA }
    try await expectNoDuplicatesAfterSomeRounds(c)
    let inboxC = try await c.inbox()
    #expect(
        inboxC.filter { $0.kind == "direct" }.map(\.text).sorted() == [
            "while you were away 1", "while you were away 2",
        ])

    // 5. B restarts: identity, contacts and inbox survive; nothing is delivered twice.
    let inboxBefore = Set(try await b.inbox().map(\.message_id))
    await b.stopCleanly()
    try await b.start()
    #expect(try await b.id() == idB)
    #expect(
        try await b.call(RPC.Method.contactsList, Empty(), as: ContactsList.self).contacts
            == [Contact(name: "alice", id: idA)])
    let envelopesNow = try await a.status().envelopes
    try await waitUntil("restarted B holds every envelope") { try await b.status().envelopes == envelopesNow }
    try await expectNoDuplicatesAfterSomeRounds(b)
    #expect(Set(try await b.inbox().map(\.message_id)).isSuperset(of: inboxBefore))
}

/// Lets several Trickle intervals pass, then checks the inbox has no message twice and did not grow.
func expectNoDuplicatesAfterSomeRounds(_ d: Daemon) async throws {
    let before = try await d.inbox()
    func rounds() async throws -> Int64 {
        let c = try await d.status().counters
        return c["beacons_sent", default: 0] + c["beacons_suppressed", default: 0]
    }
    let roundsBefore = try await rounds()
    try await waitUntil("\(d.name) sees three more beacon intervals", timeout: 40) {
        try await rounds() >= roundsBefore + 3
    }
    let after = try await d.inbox()
    #expect(after.count == before.count, "inbox grew after sync: duplicates?")
    #expect(Set(after.map(\.message_id)).count == after.count, "a message appears twice in \(d.name)'s inbox")
}
