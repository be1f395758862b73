import EstafetteAPI
import EstafetteCore
import Foundation
import Testing

/// The API methods (docs/api.md, "Methods"), each request a JSON-RPC line through the dispatcher of a node with a
/// real database in a scratch directory and no LAN.
@Suite("API methods")
struct DispatcherTests {
    static func withNode(
        identity: SigningKeyPair = Fixture.alice, _ body: (TestNode) async throws -> Void
    ) async throws {
        try await withScratchDir("dispatch") { dir in try await body(try TestNode(dir: dir, identity: identity)) }
    }

    static let bob = Fixture.id(Fixture.bob)
    static let carol = Fixture.id(Fixture.carol)

    @Test("identity.show gives the node's ID and fingerprint; node.status its ID, version and counts")
    func identityAndStatus() async throws {
        try await Self.withNode { node in
            let me = try await node.call(RPC.Method.identityShow, as: IdentityInfo.self)
            let id = PublicID(key: Fixture.alice.publicKey)
            #expect(
                me
                    == IdentityInfo(
                        id: id.description, fingerprint: id.fingerprint, link_key: node.relay.linkKey.publicKeyHex))
            let status = try await node.call(RPC.Method.nodeStatus, as: NodeStatus.self)
            #expect(status.id == id.description)
            #expect(!status.version.isEmpty)
            #expect(status.peers == 0)
            #expect(status.envelopes == 0)
            #expect(status.counters["packets_in"] == 0 && status.counters["packets_out"] == 0)
            #expect(try await node.call(RPC.Method.peersList, as: PeersList.self).peers.isEmpty)
        }
    }

    @Test("contacts.add, list (by name) and remove")
    func contacts() async throws {
        try await Self.withNode { node in
            for (name, id) in [("carol", Self.carol), ("bob", Self.bob.uppercased())] {
                #expect(
                    try await node.call(RPC.Method.contactsAdd, ContactsAddParams(name: name, id: id), as: OK.self).ok)
            }
            let list = try await node.call(RPC.Method.contactsList, as: ContactsList.self)
            #expect(list.contacts == [Contact(name: "bob", id: Self.bob), Contact(name: "carol", id: Self.carol)])
            #expect(try await node.call(RPC.Method.contactsRemove, ContactsRemoveParams(name: "bob"), as: OK.self).ok)
            let error = try await node.error(RPC.Method.contactsRemove, ContactsRemoveParams(name: "bob"))
            #expect(error == RPCErrorObject(code: -32001, message: "no contact named 'bob'"))
            #expect(
                try await node.call(RPC.Method.contactsList, as: ContactsList.self).contacts
                    == [Contact(name: "carol", id: Self.carol)])
        }
    }

    @Test(
        "contacts.add refuses names that could be confused or misread, with a reason",
        arguments: [
            ("", "a contact name has 1 to 64 characters"),
            (String(repeating: "n", count: 65), "a contact name has 1 to 64 characters"),
            (" bob", "a contact name cannot start or end with whitespace"),
            ("bo\nb", "a contact name cannot hold control characters"),
            ("ES1bob", "a contact name cannot start with 'es1' (that is how IDs start)"),
        ])
    func badContactName(name: String, message: String) async throws {
        try await Self.withNode { node in
            let error = try await node.error(RPC.Method.contactsAdd, ContactsAddParams(name: name, id: Self.bob))
            #expect(error == RPCErrorObject(code: -32006, message: message))
            #expect(try await node.call(RPC.Method.contactsList, as: ContactsList.self).contacts.isEmpty)
        }
    }

    @Test("one name per ID and one ID per name (-32005); a mistyped ID is refused (-32002)")
    func contactConflicts() async throws {
        try await Self.withNode { node in
            _ = try await node.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: Self.bob), as: OK.self)
            let taken = try await node.error(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: Self.carol))
            #expect(
                taken
                    == RPCErrorObject(
                        code: -32005,
                        message: "a contact named 'bob' already exists with another ID; remove it first if the ID changed"))
            // The same name and ID again is no conflict.
            _ = try await node.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: Self.bob), as: OK.self)
            let again = try await node.error(RPC.Method.contactsAdd, ContactsAddParams(name: "robert", id: Self.bob))
            #expect(again == RPCErrorObject(code: -32005, message: "this ID is already saved as contact 'bob'"))
            let typo = String(Self.bob.dropLast()) + (Self.bob.hasSuffix("a") ? "b" : "a")
            let bad = try await node.error(RPC.Method.contactsAdd, ContactsAddParams(name: "bobby", id: typo))
            #expect(bad.code == -32002)
            #expect(bad.message.contains("bad checksum"), "\(bad.message)")
        }
    }

    @Test("a message to yourself, by contact name, reaches your own inbox and your subscribers once")
    func sendToSelf() async throws {
        try await Self.withNode { node in
            let updates = await node.subscribe()
            _ = try await node.call(RPC.Method.contactsAdd, ContactsAddParams(name: "me", id: node.id), as: OK.self)
            let sent = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "me", text: "note to self"), as: MessageSent.self)
            let inbox = try await node.inbox()
            #expect(inbox.count == 1)
            let item = try #require(inbox.first)
            #expect(item.message_id == sent.message_id)
            #expect(item.kind == "direct")
            #expect(item.from == node.id)
            #expect(item.from_name == "me")
            #expect(item.text == "note to self")
            #expect(!item.read)
            #expect(item.followed == nil, "followed is for alerts only")
            var iterator = updates.makeAsyncIterator()
            let notified = await iterator.next()
            #expect(notified == item)
            let status = try await node.call(RPC.Method.nodeStatus, as: NodeStatus.self)
            #expect(status.envelopes == 1)
        }
    }

    @Test("a message to someone else, by ID in any case, is stored and leaves no copy in the sender's inbox")
    func sendToOther() async throws {
        try await Self.withNode { node in
            let spaced = Self.bob.uppercased().enumerated().map { i, c in i > 0 && i % 8 == 0 ? "-\(c)" : "\(c)" }
                .joined()
            let sent = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: spaced, text: "hello bob"), as: MessageSent.self)
            #expect(sent.message_id.count == 64)
            #expect(try await node.inbox().isEmpty)
            let id = try #require(EnvelopeID(hex: sent.message_id))
            let stored = try #require(try node.store.envelopes([id]).first)
            let opened = try DirectMessage.open(try Envelope(decoding: stored.bytes), id: id, with: Fixture.bob)
            #expect(opened.text == "hello bob")
            #expect(opened.sender == Fixture.alice.publicKey)
        }
    }

    @Test(
        "messages.send checks the recipient, then the text, and says what is wrong",
        arguments: [
            ("carol", "", -32001, "no contact named 'carol'; add one with contacts.add or give a full ID"),
            (bob, "", -32004, "text is empty (or only whitespace)"),
            (bob, " \n\t", -32004, "text is empty (or only whitespace)"),
            (
                bob, String(repeating: "a", count: 32_001), -32003,
                "text is 32001 bytes; the limit is 32000 bytes of UTF-8"
            ),
            (
                bob, String(repeating: "é", count: 16_001), -32003,
                "text is 32002 bytes; the limit is 32000 bytes of UTF-8"
            ),
            ("es1abc", "hi", -32002, "'es1abc' is not an Estafette ID: wrong length (an ID has 61 characters)"),
        ])
    func sendErrors(to: String, text: String, code: Int, message: String) async throws {
        try await Self.withNode { node in
            let error = try await node.error(RPC.Method.messagesSend, MessagesSendParams(to: to, text: text))
            #expect(error == RPCErrorObject(code: code, message: message))
            #expect(try node.store.envelopeCount() == 0)
        }
    }

    @Test("the longest text (32,000 bytes of UTF-8) is sent")
    func longestText() async throws {
        try await Self.withNode { node in
            let text = String(repeating: "é", count: 16_000)
            _ = try await node.call(RPC.Method.contactsAdd, ContactsAddParams(name: "me", id: node.id), as: OK.self)
            _ = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "me", text: text), as: MessageSent.self)
            #expect(try await node.inbox().map(\.text) == [text])
        }
    }

    @Test("alerts.post reaches the author's inbox and subscribers; sequence numbers go on after a restart")
    func alerts() async throws {
        try await withScratchDir("dispatch") { dir in
            do {
                let node = try TestNode(dir: dir)
                let updates = await node.subscribe()
                let sent = try await node.call(
                    RPC.Method.alertsPost, AlertsPostParams(text: "water cut at 14:00"), as: MessageSent.self)
                let item = try #require(try await node.inbox().first)
                #expect(item.message_id == sent.message_id)
                #expect(item.kind == "alert")
                #expect(item.from == node.id)
                #expect(item.followed == false)
                var iterator = updates.makeAsyncIterator()
                let notified = await iterator.next()
                #expect(notified == item)
                _ = try await node.call(RPC.Method.alertsPost, AlertsPostParams(text: "second"), as: MessageSent.self)
                #expect(try node.store.lastAlertSequence(author: Fixture.alice.publicKey.bytes) == 2)
            }
            let restarted = try TestNode(dir: dir)
            _ = try await restarted.call(RPC.Method.alertsPost, AlertsPostParams(text: "third"), as: MessageSent.self)
            #expect(try restarted.store.lastAlertSequence(author: Fixture.alice.publicKey.bytes) == 3)
            #expect(Set(try await restarted.inbox().map(\.text)) == ["third", "second", "water cut at 14:00"])
        }
    }

    @Test("alerts.follow marks an author's alerts followed; following twice and unfollowing a stranger are fine")
    func follows() async throws {
        try await Self.withNode { node in
            _ = try await node.call(RPC.Method.alertsPost, AlertsPostParams(text: "mine"), as: MessageSent.self)
            for id in [node.id, node.id.uppercased(), Self.bob] {
                _ = try await node.call(RPC.Method.alertsFollow, AlertsFollowParams(id: id), as: OK.self)
            }
            let following = try await node.call(RPC.Method.alertsFollowing, as: AlertsFollowing.self).following
            #expect(following.count == 2)
            #expect(Set(following) == [node.id, Self.bob])
            #expect(try await node.inbox().first?.followed == true)
            _ = try await node.call(RPC.Method.alertsUnfollow, AlertsFollowParams(id: node.id), as: OK.self)
            _ = try await node.call(RPC.Method.alertsUnfollow, AlertsFollowParams(id: Self.carol), as: OK.self)
            #expect(try await node.inbox().first?.followed == false)
            #expect(try await node.call(RPC.Method.alertsFollowing, as: AlertsFollowing.self).following == [Self.bob])
            let bad = try await node.error(RPC.Method.alertsFollow, AlertsFollowParams(id: "bob"))
            #expect(bad.code == -32002)
        }
    }

    @Test("inbox.list: newest first, limit, unread; inbox.mark_read counts changes and is all or nothing")
    func inboxAndMarkRead() async throws {
        try await Self.withNode { node in
            var ids: [String] = []
            for text in ["one", "two", "three"] {
                ids.append(
                    try await node.call(RPC.Method.alertsPost, AlertsPostParams(text: text), as: MessageSent.self)
                        .message_id)
            }
            #expect(Set(try await node.inbox().map(\.text)) == ["one", "two", "three"])
            #expect(try await node.inbox(InboxListParams(limit: 2)).count == 2)
            let bad = try await node.error(
                RPC.Method.inboxMarkRead, InboxMarkReadParams(message_ids: [ids[0], "abc"]))
            #expect(bad == RPCErrorObject(code: -32602, message: "'abc' is not a message_id (64 hex digits)"))
            #expect(try await node.inbox(InboxListParams(unread: true)).count == 3, "nothing was marked")
            let marked = try await node.call(
                RPC.Method.inboxMarkRead, InboxMarkReadParams(message_ids: [ids[0], ids[1].uppercased()]),
                as: MarkedRead.self)
            #expect(marked.marked == 2)
            let again = try await node.call(
                RPC.Method.inboxMarkRead,
                InboxMarkReadParams(message_ids: [ids[0], String(repeating: "0", count: 64)]),
                as: MarkedRead.self)
            #expect(again.marked == 0)
            #expect(try await node.inbox(InboxListParams(unread: true)).map(\.text) == ["three"])
            let far = Int64(Date().timeIntervalSince1970) + 3600
            #expect(try await node.inbox(InboxListParams(since: far)).isEmpty)
        }
    }

    @Test(
        "bad params are -32602 with a message that names the parameter",
        arguments: [
            (RPC.Method.alertsPost, "{}", "params: missing 'text'"),
            (RPC.Method.alertsPost, #"{"text":null}"#, "params: 'text' must be a string, not null"),
            (RPC.Method.alertsPost, #"{"text":5}"#, "params: 'text' must be a string"),
            (RPC.Method.inboxList, #"{"limit":"ten"}"#, "params: 'limit' must be an integer"),
            (RPC.Method.inboxList, #"{"unread":"yes"}"#, "params: 'unread' must be true or false"),
            (RPC.Method.inboxList, #"{"limit":0}"#, "limit must be between 1 and 1000"),
            (RPC.Method.inboxList, #"{"limit":1001}"#, "limit must be between 1 and 1000"),
            (RPC.Method.inboxMarkRead, #"{"message_ids":"abc"}"#, "params: 'message_ids' must be an array"),
            (RPC.Method.contactsAdd, #"{"name":"bob"}"#, "params: missing 'id' (or 'invite')"),
            (RPC.Method.messagesSend, #"["bob","hi"]"#, "params must be a JSON object"),
            (RPC.Method.subscribe, #""x""#, "params must be a JSON object"),
        ])
    func invalidParams(method: String, params: String, message: String) async throws {
        try await Self.withNode { node in
            let line = #"{"jsonrpc":"2.0","id":9,"method":"\#(method)","params":\#(params)}"#
            let text = try #require(await node.answer(line))
            let r = try JSONDecoder().decode(RPCResponse.self, from: Data(text.utf8))
            #expect(r.id == .int(9))
            #expect(r.error == RPCErrorObject(code: -32602, message: message))
        }
    }

    @Test("more than 1000 message_ids at once are refused")
    func tooManyIDs() async throws {
        try await Self.withNode { node in
            let ids = (0...1000).map { _ in String(repeating: "a", count: 64) }
            let error = try await node.error(RPC.Method.inboxMarkRead, InboxMarkReadParams(message_ids: ids))
            #expect(error == RPCErrorObject(code: -32602, message: "at most 1000 message_ids at once"))
        }
    }

    @Test("members a method does not know are ignored; missing or null params mean none")
    func lenientParams() async throws {
        try await Self.withNode { node in
            for params in ["", #","params":null"#, #","params":{"kinds":["alert"]}"#] {
                let text = try #require(await node.answer(#"{"jsonrpc":"2.0","id":1,"method":"subscribe"\#(params)}"#))
                #expect(text == #"{"id":1,"jsonrpc":"2.0","result":{"subscribed":true}}"#, "params: \(params)")
            }
        }
    }
}
