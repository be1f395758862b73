import EstafetteAPI
import EstafetteCore
import EstafetteNode
import Foundation
import Testing

/// channels.* and contacts.block / unblock through the dispatcher of a node with a real database (docs/api.md).
@Suite("API channel and blocking methods")
struct DispatcherChannelTests {
    static func join(_ node: TestNode, _ name: String = "assemblee", _ passphrase: String = "la commune vit")
        async throws -> ChannelJoined
    {
        try await node.call(
            RPC.Method.channelsJoin, ChannelsJoinParams(name: name, passphrase: passphrase), as: ChannelJoined.self)
    }

    @Test("join, post to one's own inbox, list, survive a restart, leave")
    func joinPostRestartLeave() async throws {
        try await withScratchDir("channels") { dir in
            let joinedAt: Int64
            do {
                let node = try TestNode(dir: dir)
                #expect(try await Self.join(node).channel == "assemblee")
                let post = try await node.call(
                    RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "AG à 18 h"),
                    as: MessageSent.self)
                let item = try #require(try await node.inbox().first)
                #expect(item.message_id == post.message_id)
                #expect(item.kind == "channel")
                #expect(item.channel == "assemblee")
                #expect(item.from == node.id)
                let list = try await node.call(RPC.Method.channelsList, as: ChannelsList.self).channels
                #expect(list.map(\.name) == ["assemblee"])
                joinedAt = try #require(list.first?.joined_at)
                // Joining again (another passphrase) keeps one entry and its first join time.
                _ = try await Self.join(node, "assemblee", "une autre")
                #expect(try await node.call(RPC.Method.channelsList, as: ChannelsList.self).channels.count == 1)
                _ = try await Self.join(node, "assemblee")
            }
            let restarted = try TestNode(dir: dir)
            #expect(
                try await restarted.call(RPC.Method.channelsList, as: ChannelsList.self).channels
                    == [ChannelInfo(name: "assemblee", joined_at: joinedAt)])
            _ = try await restarted.call(
                RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "encore"), as: MessageSent.self)
            #expect(try await restarted.inbox().filter { $0.channel == "assemblee" }.count == 2)
            _ = try await restarted.call(RPC.Method.channelsLeave, ChannelsLeaveParams(name: "assemblee"), as: OK.self)
            #expect(try await restarted.call(RPC.Method.channelsList, as: ChannelsList.self).channels.isEmpty)
            #expect(
                try await restarted.error(RPC.Method.channelsLeave, ChannelsLeaveParams(name: "assemblee")).code
                    == RPC.ErrorCode.unknownChannel)
            #expect(
                try await restarted.error(
                    RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "x")
                ).code == RPC.ErrorCode.unknownChannel)
        }
    }

    @Test("bad names and passphrases are refused with their codes")
    func badJoins() async throws {
        try await withScratchDir("channels") { dir in
            let node = try TestNode(dir: dir)
            for name in ["", String(repeating: "x", count: 65), " assemblee", "as\nsemblee"] {
                let e = try await node.error(
                    RPC.Method.channelsJoin, ChannelsJoinParams(name: name, passphrase: "la commune vit"))
                #expect(e.code == RPC.ErrorCode.badChannel, "name \(name.debugDescription)")
            }
            for passphrase in ["", String(repeating: "p", count: 1_025)] {
                let e = try await node.error(
                    RPC.Method.channelsJoin, ChannelsJoinParams(name: "assemblee", passphrase: passphrase))
                #expect(e.code == RPC.ErrorCode.badPassphrase)
            }
            #expect(try await node.call(RPC.Method.channelsList, as: ChannelsList.self).channels.isEmpty)
            let empty = try await node.error(RPC.Method.channelsPost, ChannelsPostParams(channel: "x", text: " "))
            #expect(empty.code == RPC.ErrorCode.emptyText)
        }
    }

    @Test("expires_in: bounded; an ephemeral message or post leaves the inbox with its envelope, others stay")
    func expiresIn() async throws {
        try await withScratchDir("channels") { dir in
            let node = try TestNode(dir: dir)
            _ = try await Self.join(node)
            for bad in [0, 59, 7 * 86_400 + 1] {
                let e = try await node.error(
                    RPC.Method.messagesSend, MessagesSendParams(to: node.id, text: "x", expires_in: bad))
                #expect(e.code == RPC.ErrorCode.invalidParams)
                let p = try await node.error(
                    RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "x", expires_in: bad))
                #expect(p.code == RPC.ErrorCode.invalidParams)
            }
            let now = Int64(Date().timeIntervalSince1970)
            let kept = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: node.id, text: "kept"), as: MessageSent.self)
            let gone = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: node.id, text: "gone", expires_in: 120),
                as: MessageSent.self)
            let post = try await node.call(
                RPC.Method.channelsPost, ChannelsPostParams(channel: "assemblee", text: "gone too", expires_in: 3_600),
                as: MessageSent.self)
            #expect(
                Set(try await node.inbox().map(\.message_id)) == [kept.message_id, gone.message_id, post.message_id])
            let stored = try node.store.envelopes(
                [gone.message_id, post.message_id].map { EnvelopeID(hex: $0)! })
            let expiries = stored.map { Int64($0.expiresAt) }.sorted()
            #expect(expiries.count == 2)
            #expect(expiries.allSatisfy { $0 % 60 == 0 })
            #expect(abs(expiries[0] - (now + 120)) <= 61, "\(expiries) vs now \(now)")
            #expect(abs(expiries[1] - (now + 3_600)) <= 61)
            try node.store.deleteExpired(upTo: UInt64(expiries[0]))
            #expect(Set(try await node.inbox().map(\.message_id)) == [kept.message_id, post.message_id])
            try node.store.deleteExpired(upTo: UInt64(expiries[1]))
            #expect(try await node.inbox().map(\.message_id) == [kept.message_id])
        }
    }

    @Test("a blocked ID's messages are neither stored in the inbox nor notified; earlier ones hide until unblocked")
    func blocking() async throws {
        try await withScratchDir("channels") { dir in
            let node = try TestNode(dir: dir)
            let updates = await node.subscribe()
            let before = try await node.call(
                RPC.Method.alertsPost, AlertsPostParams(text: "before"), as: MessageSent.self)
            _ = try await node.call(RPC.Method.contactsBlock, ContactsBlockParams(id: node.id), as: OK.self)
            _ = try await node.call(RPC.Method.contactsBlock, ContactsBlockParams(id: node.id), as: OK.self)
            #expect(try await node.inbox().isEmpty)
            let during = try await node.call(
                RPC.Method.alertsPost, AlertsPostParams(text: "during"), as: MessageSent.self)
            #expect(try await node.inbox().isEmpty)
            #expect(try node.store.envelopeCount() == 2, "the node still stores (and carries) the envelope")
            _ = try await node.call(RPC.Method.contactsUnblock, ContactsBlockParams(id: node.id), as: OK.self)
            #expect(try await node.inbox().map(\.message_id) == [before.message_id])
            var iterator = updates.makeAsyncIterator()
            #expect(await iterator.next()?.message_id == before.message_id)
            let after = try await node.call(
                RPC.Method.alertsPost, AlertsPostParams(text: "after"), as: MessageSent.self)
            #expect(await iterator.next()?.message_id == after.message_id, "nothing was notified for \(during)")
            #expect(
                try await node.error(RPC.Method.contactsBlock, ContactsBlockParams(id: "es1nope")).code
                    == RPC.ErrorCode.badID)
        }
    }
}

/// `messages.accept_from = "contacts"`: strangers' direct messages wait among the requests.
@Suite("Message requests")
struct RequestsTests {
    @Test("a stranger's direct message is a request, not new in the inbox; a contact's, an alert and our own are not")
    func strangersAreRequests() async throws {
        try await withScratchDir("requests") { dir in
            var config = NodeConfig(dataDir: dir, socketPath: dir + "/api.sock")
            config.requestsFromStrangers = true
            let node = try TestNode(dir: dir, config: config)
            let (fromCarol, carolMessage) = try Fixture.direct(
                "hello, stranger", from: Fixture.carol, to: Fixture.alice)
            let (fromBob, bobMessage) = try Fixture.direct("hello, friend", from: Fixture.bob, to: Fixture.alice)
            let (alert, alertMessage) = try Fixture.alert("public", by: Fixture.carol)
            _ = try await node.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: Fixture.id(Fixture.bob)), as: OK.self)
            let fresh = try node.store.commit(
                [(fromCarol, carolMessage, 1), (fromBob, bobMessage, 2), (alert, alertMessage, 3)],
                requestsFromStrangers: true)
            #expect(fresh == [false, true, true], "a request is not reported new, so it is never notified")
            let own = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: node.id, text: "note to self"), as: MessageSent.self)
            #expect(
                Set(try await node.inbox().map(\.text)) == ["hello, friend", "public", "note to self"],
                "\(own)")
            let requests = try await node.call(
                RPC.Method.inboxList, InboxListParams(requests: true), as: InboxList.self
            ).messages
            #expect(requests.map(\.text) == ["hello, stranger"])
            // Adding the stranger as a contact moves the request to the inbox.
            _ = try await node.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "carol", id: Fixture.id(Fixture.carol)), as: OK.self)
            #expect(try await node.inbox().contains { $0.text == "hello, stranger" })
            #expect(
                try await node.call(RPC.Method.inboxList, InboxListParams(requests: true), as: InboxList.self)
                    .messages.isEmpty)
        }
    }

    @Test("messages.accept_from loads; anything but anyone or contacts is refused")
    func config() throws {
        #expect(try NodeConfig.load(file: "/c", text: "[messages]\naccept_from = \"contacts\"\n").requestsFromStrangers)
        #expect(try !NodeConfig.load(file: "/c", text: "[messages]\naccept_from = \"anyone\"\n").requestsFromStrangers)
        #expect(throws: (any Error).self) {
            try NodeConfig.load(file: "/c", text: "[messages]\naccept_from = \"friends\"\n")
        }
    }
}
