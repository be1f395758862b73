import EstafetteAPI
import EstafetteCore
import Foundation
import Testing

/// contacts.safety_number, contacts.verify and the `verified` / `sender` fields, through the dispatcher of a node
/// with a real database (docs/api.md).
@Suite("API verification methods")
struct DispatcherPeopleTests {
    static let bob = Fixture.id(Fixture.bob)

    @Test("the safety number of a contact is the pair's, the same as the contact's node computes")
    func safetyNumberBothSides() async throws {
        try await withScratchDir("people") { dir in
            for sub in ["a", "b", "c"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: false)
            }
            let alice = try TestNode(dir: dir + "/a", identity: Fixture.alice)
            let bob = try TestNode(dir: dir + "/b", identity: Fixture.bob)
            _ = try await alice.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: bob.id), as: OK.self)
            _ = try await bob.call(RPC.Method.contactsAdd, ContactsAddParams(name: "alice", id: alice.id), as: OK.self)
            let fromAlice = try await alice.call(
                RPC.Method.contactsSafetyNumber, ContactNameParams(name: "bob"), as: SafetyNumberInfo.self)
            let fromBob = try await bob.call(
                RPC.Method.contactsSafetyNumber, ContactNameParams(name: "alice"), as: SafetyNumberInfo.self)
            #expect(fromAlice.safety_number == fromBob.safety_number)
            #expect(fromAlice.safety_number == SafetyNumber.of(Fixture.alice.publicKey, Fixture.bob.publicKey))
            #expect(fromAlice.id == bob.id && fromAlice.name == "bob" && !fromAlice.verified)
            _ = try await alice.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "carol", id: Fixture.id(Fixture.carol)), as: OK.self)
            let carol = try await alice.call(
                RPC.Method.contactsSafetyNumber, ContactNameParams(name: "carol"), as: SafetyNumberInfo.self)
            #expect(carol.safety_number != fromAlice.safety_number)
            let missing = try await alice.error(RPC.Method.contactsSafetyNumber, ContactNameParams(name: "dave"))
            #expect(missing.code == RPC.ErrorCode.unknownContact)
        }
    }

    @Test("verify marks the contact in contacts.list, survives a restart, and an unknown name is refused")
    func verify() async throws {
        try await withScratchDir("people") { dir in
            do {
                let node = try TestNode(dir: dir)
                _ = try await node.call(
                    RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: Self.bob), as: OK.self)
                #expect(
                    try await node.call(RPC.Method.contactsList, as: ContactsList.self).contacts
                        == [Contact(name: "bob", id: Self.bob, verified: false)])
                #expect(try await node.call(RPC.Method.contactsVerify, ContactNameParams(name: "bob"), as: OK.self).ok)
                let error = try await node.error(RPC.Method.contactsVerify, ContactNameParams(name: "robert"))
                #expect(error == RPCErrorObject(code: -32001, message: "no contact named 'robert'; add one with contacts.add"))
            }
            let restarted = try TestNode(dir: dir)
            #expect(
                try await restarted.call(RPC.Method.contactsList, as: ContactsList.self).contacts
                    == [Contact(name: "bob", id: Self.bob, verified: true)])
            // Removing and adding again forgets the verification.
            _ = try await restarted.call(RPC.Method.contactsRemove, ContactsRemoveParams(name: "bob"), as: OK.self)
            _ = try await restarted.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: Self.bob), as: OK.self)
            #expect(
                try await restarted.call(RPC.Method.contactsList, as: ContactsList.self).contacts.map(\.verified)
                    == [false])
        }
    }

    @Test("inbox items and notifications say whether the sender is unknown, a contact, or verified")
    func senderTrust() async throws {
        try await withScratchDir("people") { dir in
            let node = try TestNode(dir: dir)
            let updates = await node.subscribe()
            var iterator = updates.makeAsyncIterator()
            _ = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: node.id, text: "from a stranger"), as: MessageSent.self)
            #expect(try await node.inbox().map(\.sender) == [SenderTrust.unknown])
            #expect(await iterator.next()?.sender == SenderTrust.unknown)
            _ = try await node.call(RPC.Method.contactsAdd, ContactsAddParams(name: "me", id: node.id), as: OK.self)
            _ = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "me", text: "from a contact"), as: MessageSent.self)
            #expect(await iterator.next()?.sender == SenderTrust.contact)
            #expect(try await node.inbox().map(\.sender) == [SenderTrust.contact, SenderTrust.contact])
            _ = try await node.call(RPC.Method.contactsVerify, ContactNameParams(name: "me"), as: OK.self)
            _ = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "me", text: "verified"), as: MessageSent.self)
            #expect(await iterator.next()?.sender == SenderTrust.verified)
            #expect(try await node.inbox().map(\.sender) == Array(repeating: SenderTrust.verified, count: 3))
        }
    }

    @Test("identity.invite on one node, contacts.add with it on another; a damaged invite is refused")
    func inviteRoundTrip() async throws {
        try await withScratchDir("people") { dir in
            for sub in ["a", "b", "c"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: false)
            }
            let alice = try TestNode(dir: dir + "/a", identity: Fixture.alice)
            let bob = try TestNode(dir: dir + "/b", identity: Fixture.bob)
            let invite = try await alice.call(
                RPC.Method.identityInvite, IdentityInviteParams(name: "Alice M.", relays: ["192.0.2.1:7300"]),
                as: InviteInfo.self
            ).invite
            #expect(invite.hasPrefix("estafette:invite?v=1&id=\(alice.id)&"))
            let damaged = invite.replacingOccurrences(of: "Alice", with: "Alicf")
            let refused = try await bob.error(RPC.Method.contactsAdd, ContactsAddParams(name: "alice", invite: damaged))
            #expect(refused.code == RPC.ErrorCode.badInvite)
            #expect(refused.message.contains("damaged"), "\(refused.message)")
            #expect(try await bob.call(RPC.Method.contactsList, as: ContactsList.self).contacts.isEmpty)
            let added = try await bob.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "alice", invite: invite), as: ContactAdded.self)
            #expect(added == ContactAdded(invite_name: "Alice M.", relays: ["192.0.2.1:7300"]))
            #expect(
                try await bob.call(RPC.Method.contactsList, as: ContactsList.self).contacts
                    == [Contact(name: "alice", id: alice.id)])
            // Scanned twice: no error. Another person's invite under the same name: refused.
            _ = try await bob.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "alice", invite: invite), as: ContactAdded.self)
            let carol = try await TestNode(dir: dir + "/c", identity: Fixture.carol).call(
                RPC.Method.identityInvite, IdentityInviteParams(name: "Alice"), as: InviteInfo.self
            ).invite
            let taken = try await bob.error(RPC.Method.contactsAdd, ContactsAddParams(name: "alice", invite: carol))
            #expect(taken.code == RPC.ErrorCode.contactExists)
            let bad = try await alice.error(RPC.Method.identityInvite, IdentityInviteParams(name: ""))
            #expect(bad.code == RPC.ErrorCode.badInvite)
            var both = ContactsAddParams(name: "x", invite: invite)
            both.id = alice.id
            #expect(try await bob.error(RPC.Method.contactsAdd, both).code == RPC.ErrorCode.invalidParams)
        }
    }
}
