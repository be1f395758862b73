import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

@Suite("Channels and blocking, three daemons over loopback multicast", .serialized)
struct ChannelMeshTests {
    @Test(
        "A and B share a channel, C with a wrong passphrase reads nothing; B blocks A",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(2)))
    func channelAndBlock() async throws {
        let root = try makeScratchDir("channels")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b", "c"].map { try Daemon.forTest($0, root: root, group: group, port: port) }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        try await withDaemons(nodes) {
            for d in nodes { try await d.start() }
            let (idA, idB) = (try await a.id(), try await b.id())
            for d in nodes {
                try await waitUntil("\(d.name) sees two peers") { try await d.status().peers >= 2 }
            }
            // B joins through the CLI, the passphrase on standard input as a script would give it.
            let cli = try Binaries.daemon().replacingOccurrences(of: "/estafetted", with: "/estafette")
            let joinedByCLI = try runChecked(
                "/bin/sh", ["-c", "printf 'la commune vit\\n' | '\(cli)' --socket '\(b.socket)' channel join assemblee"])
            #expect(joinedByCLI.contains("Joined channel assemblee."), "\(joinedByCLI)")
            #expect(try runChecked(cli, ["--socket", b.socket, "channel", "list"]).contains("assemblee"))
            for (d, passphrase) in [(a, "la commune vit"), (c, "la commune meurt")] {
                let joined = try await d.call(
                    RPC.Method.channelsJoin, ChannelsJoinParams(name: "assemblee", passphrase: passphrase),
                    as: ChannelJoined.self)
                #expect(joined.channel == "assemblee")
            }
            let listed = try await b.call(RPC.Method.channelsList, Empty(), as: ChannelsList.self).channels
            #expect(listed.map(\.name) == ["assemblee"])
            let watchB = try await Watcher(b)
            defer { watchB.cancel() }

            // 1. A's post reaches B, shown as from A; C carries it and reads nothing.
            let post = try await a.call(
                RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "AG ce soir à 18 h"),
                as: MessageSent.self)
            try await waitUntil("B's subscription gets the post") {
                watchB.received.contains { $0.message_id == post.message_id }
            }
            let got = try #require(try await b.inbox().first { $0.message_id == post.message_id })
            #expect(got.kind == "channel")
            #expect(got.channel == "assemblee")
            #expect(got.from == idA)
            #expect(got.text == "AG ce soir à 18 h")
            #expect(try await a.inbox().contains { $0.message_id == post.message_id && $0.channel == "assemblee" })
            try await waitUntil("C stores the post's envelope") { try await c.status().envelopes >= 1 }
            #expect(try await c.inbox().isEmpty, "C, with a wrong passphrase, must read nothing")
            // Posting to a channel one has not joined is refused.
            await #expect(throws: (any Error).self) {
                _ = try await c.call(
                    RPC.Method.channelsPost, ChannelsPostParams(channel: "other", text: "x"), as: MessageSent.self)
            }

            // 2. B blocks A: A's direct message, channel post and alert reach B's store, never its inbox or watch.
            _ = try await b.call(RPC.Method.contactsBlock, ContactsBlockParams(id: idA), as: OK.self)
            #expect(try await b.inbox().isEmpty, "a blocked sender's earlier messages are hidden too")
            var blocked: [String] = []
            blocked.append(
                try await a.call(
                    RPC.Method.messagesSend, MessagesSendParams(to: idB, text: "you cannot hide"), as: MessageSent.self
                ).message_id)
            blocked.append(
                try await a.call(
                    RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "still here"),
                    as: MessageSent.self
                ).message_id)
            blocked.append(
                try await a.call(RPC.Method.alertsPost, AlertsPostParams(text: "look at me"), as: MessageSent.self)
                    .message_id)
            let envelopesA = try await a.status().envelopes
            for d in [b, c] {
                try await waitUntil("\(d.name) holds every envelope A holds") {
                    try await d.status().envelopes == envelopesA
                }
            }
            let delivered = try await b.status().counters["messages_delivered", default: 0]
            #expect(delivered >= 4, "B opened them (and carries them) but shows none: \(delivered)")
            #expect(try await b.inbox().isEmpty)
            #expect(!watchB.received.contains { blocked.contains($0.message_id) })
            // C (not blocking) sees the alert: the envelopes went on through B's mesh as usual.
            try await waitUntil("C gets A's alert") {
                try await c.inbox().contains { $0.message_id == blocked[2] }
            }

            // 3. Unblocking shows what was hidden; leaving a channel is remembered.
            _ = try await b.call(RPC.Method.contactsUnblock, ContactsBlockParams(id: idA), as: OK.self)
            #expect(try await b.inbox().contains { $0.message_id == post.message_id })
            _ = try await b.call(RPC.Method.channelsLeave, ChannelsLeaveParams(name: "assemblee"), as: OK.self)
            #expect(try await b.call(RPC.Method.channelsList, Empty(), as: ChannelsList.self).channels.isEmpty)
            for d in nodes { await d.stopCleanly() }
        }
    }
}
