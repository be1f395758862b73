import EstafetteAPI
import EstafetteCore
import Foundation
import Testing

@testable import EstafetteNode

/// Delivery receipts through the shell: messages.status and messages.sent on the sending node, receipts sent by
/// the receiving node only for messages that reached its inbox. Envelopes from other nodes arrive the way a
/// bundle's do (`importBatch`): through the node's validation and the group commit.
@Suite("Delivery receipts (messages.status, messages.sent)")
struct ReceiptDispatchTests {
    static let mallory = SigningKeyPair.deterministic(666)

    /// An expiry an hour from the wall clock (imports check it against the real clock).
    static var expiry: UInt64 { UInt64(wallClockMillis() / 1000) + 3_600 }

    static func importAndCommit(_ node: TestNode, _ envelopes: [Envelope]) async {
        _ = await node.shell.importBatch(envelopes.map { $0.encoded() })
        await node.commit()
    }

    /// The receipts a node sent: its stored direct envelopes that open for `sender` as receipts.
    static func receipts(in node: TestNode, openedBy sender: SigningKeyPair) throws -> [EnvelopeID] {
        var ids: [EnvelopeID] = []
        try node.store.forEachEnvelope { id, _ in ids.append(id) }
        return try node.store.envelopes(ids).compactMap { e in
            guard e.kind == .direct, let envelope = try? Envelope(decoding: e.bytes) else { return nil }
            return (try? DirectMessage.open(envelope, id: e.id, with: sender))?.acknowledges
        }
    }

    @Test("a sent message is 'sent' until its recipient's receipt; anyone else's receipt changes nothing")
    func statusFollowsReceipt() async throws {
        try await withScratchDir("receipts-a") { dir in
            let node = try TestNode(dir: dir, identity: Fixture.alice)
            let bobID = Fixture.id(Fixture.bob)
            let sent = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: bobID, text: "arrived?"), as: MessageSent.self)
            let status = { try await node.call(
                RPC.Method.messagesStatus, MessagesStatusParams(message_id: sent.message_id), as: MessageStatus.self) }
            #expect(try await status() == MessageStatus(status: "sent"))
            let listed = try await node.call(RPC.Method.messagesSent, MessagesSentParams(), as: SentList.self)
            #expect(listed.messages.map(\.to) == [bobID])
            #expect(listed.messages.first?.status == "sent")
            #expect(listed.messages.first?.message_id == sent.message_id)

            let id = try #require(EnvelopeID(hex: sent.message_id))
            var keys = KeyCache()
            let now = UInt64(wallClockMillis() / 1000)
            let fromCarol = try DirectMessage.sealReceipt(
                for: id, from: Fixture.carol, to: Fixture.alice.publicKey, createdAt: now, expiresAt: Self.expiry,
                keys: &keys)
            await Self.importAndCommit(node, [fromCarol])
            #expect(try await status() == MessageStatus(status: "sent"), "a receipt from someone else is refused")
            let counters = try await node.call(RPC.Method.nodeStatus, as: NodeStatus.self).counters
            #expect(counters["receipts_refused"] == 1)

            let fromBob = try DirectMessage.sealReceipt(
                for: id, from: Fixture.bob, to: Fixture.alice.publicKey, createdAt: now, expiresAt: Self.expiry,
                keys: &keys)
            await Self.importAndCommit(node, [fromBob])
            let delivered = try await status()
            #expect(delivered.status == "delivered")
            #expect(delivered.delivered_at.map { abs($0 - Int64(now)) <= 5 } == true)
            #expect(
                try await node.call(RPC.Method.messagesSent, MessagesSentParams(limit: 1), as: SentList.self)
                    .messages.first?.status == "delivered")
            #expect(try await node.inbox().isEmpty, "a receipt is never shown")
            #expect(try await node.call(RPC.Method.nodeStatus, as: NodeStatus.self).counters["receipts_received"] == 1)

            let unknown = try await node.error(
                RPC.Method.messagesStatus, MessagesStatusParams(message_id: String(repeating: "ab", count: 32)))
            #expect(unknown.code == RPC.ErrorCode.unknownMessage)
            #expect(unknown.message.contains("sent no direct message"))
            let bad = try await node.error(RPC.Method.messagesStatus, MessagesStatusParams(message_id: "xyz"))
            #expect(bad.code == RPC.ErrorCode.invalidParams)
            let badLimit = try await node.error(RPC.Method.messagesSent, MessagesSentParams(limit: 0))
            #expect(badLimit.code == RPC.ErrorCode.invalidParams)
        }
    }

    @Test("a sent message still waiting is waited for after a restart")
    func awaitedAfterRestart() async throws {
        try await withScratchDir("receipts-restart") { dir in
            var sent: MessageSent
            do {
                let node = try TestNode(dir: dir, identity: Fixture.alice)
                sent = try await node.call(
                    RPC.Method.messagesSend, MessagesSendParams(to: Fixture.id(Fixture.bob), text: "later"),
                    as: MessageSent.self)
            }
            let node = try TestNode(dir: dir, identity: Fixture.alice)
            var keys = KeyCache()
            let receipt = try DirectMessage.sealReceipt(
                for: try #require(EnvelopeID(hex: sent.message_id)), from: Fixture.bob, to: Fixture.alice.publicKey,
                createdAt: UInt64(wallClockMillis() / 1000), expiresAt: Self.expiry, keys: &keys)
            await Self.importAndCommit(node, [receipt])
            #expect(
                try await node.call(
                    RPC.Method.messagesStatus, MessagesStatusParams(message_id: sent.message_id),
                    as: MessageStatus.self
                ).status == "delivered")
        }
    }

    @Test("the recipient's node acknowledges a message that reaches its inbox: not a request, not a blocked sender's")
    func recipientSendsReceipts() async throws {
        try await withScratchDir("receipts-b") { dir in
            var config = NodeConfig(dataDir: dir, socketPath: dir + "/api.sock")
            config.requestsFromStrangers = true
            let bob = try TestNode(dir: dir, identity: Fixture.bob, config: config)
            _ = try await bob.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "alice", id: Fixture.id(Fixture.alice)), as: OK.self)
            _ = try await bob.call(
                RPC.Method.contactsBlock, ContactsBlockParams(id: Fixture.id(Self.mallory)), as: OK.self)
            let now = UInt64(wallClockMillis() / 1000)
            func dm(_ from: SigningKeyPair, _ text: String) throws -> Envelope {
                try DirectMessage.seal(
                    text: text, from: from, to: Fixture.bob.publicKey, createdAt: now, expiresAt: Self.expiry)
            }
            let fromAlice = try dm(Fixture.alice, "from a contact")
            let fromCarol = try dm(Fixture.carol, "from a stranger")  // a request, imported from a bundle
            let fromMallory = try dm(Self.mallory, "from a blocked sender")
            await Self.importAndCommit(bob, [fromAlice, fromCarol, fromMallory])
            await bob.commit()  // the receipts queued after the first commit
            #expect(try Self.receipts(in: bob, openedBy: Fixture.alice) == [EnvelopeID(ofEncoded: fromAlice.encoded())])
            #expect(try Self.receipts(in: bob, openedBy: Fixture.carol).isEmpty, "the sender of a request is never told")
            #expect(try Self.receipts(in: bob, openedBy: Self.mallory).isEmpty)
            let counters = try await bob.call(RPC.Method.nodeStatus, as: NodeStatus.self).counters
            #expect(counters["receipts_sent"] == 1)
            #expect(
                try await bob.call(RPC.Method.inboxList, InboxListParams(requests: true), as: InboxList.self)
                    .messages.map(\.text) == ["from a stranger"],
                "an imported message is not ours: a stranger's lands among the requests")
        }
    }

    @Test("with messages.receipts = false the node sends none")
    func receiptsOff() async throws {
        #expect(try NodeConfig.load(file: "/c", text: "[messages]\nreceipts = false\n").receipts == false)
        #expect(try NodeConfig.load(file: "/c", text: "").meshSettings.sendsReceipts)
        #expect(throws: (any Error).self) { try NodeConfig.load(file: "/c", text: "[messages]\nreceipts = \"no\"\n") }
        try await withScratchDir("receipts-off") { dir in
            var config = NodeConfig(dataDir: dir, socketPath: dir + "/api.sock")
            config.receipts = false
            let bob = try TestNode(dir: dir, identity: Fixture.bob, config: config)
            let dm = try DirectMessage.seal(
                text: "hi", from: Fixture.alice, to: Fixture.bob.publicKey,
                createdAt: UInt64(wallClockMillis() / 1000), expiresAt: Self.expiry)
            await Self.importAndCommit(bob, [dm])
            await bob.commit()
            #expect(try await bob.inbox().map(\.text) == ["hi"])
            #expect(try Self.receipts(in: bob, openedBy: Fixture.alice).isEmpty)
        }
    }
}
