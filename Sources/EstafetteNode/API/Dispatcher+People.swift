import EstafetteAPI
import EstafetteCore
import Foundation

/// Verification and invites: contacts.safety_number, contacts.verify, identity.invite.
extension Dispatcher {
    static let peopleMethods: [String] = [
        RPC.Method.contactsSafetyNumber, RPC.Method.contactsVerify, RPC.Method.identityInvite,
    ]

    /// The answer to a verification method; nil for any other method.
    func peopleAnswer(method: String, params: JSONValue?) throws -> Answer? {
        switch method {
        case RPC.Method.contactsSafetyNumber:
            let p = try decode(ContactNameParams.self, params)
            let contact = try storage { try shell.store.contacts().first { $0.name == p.name } }
            guard let contact, let key = try? SigningPublicKey(validating: contact.key) else {
                throw unknownContact(p.name)
            }
            return try .from(
                SafetyNumberInfo(
                    name: contact.name, id: PublicID(key: key).description,
                    safety_number: SafetyNumber.of(shell.identityID.key, key), verified: contact.verified))
        case RPC.Method.contactsVerify:
            let p = try decode(ContactNameParams.self, params)
            guard try storage({ try shell.store.verifyContact(name: p.name) }) else { throw unknownContact(p.name) }
            return try .from(OK())
        case RPC.Method.identityInvite:
            let p = try decode(IdentityInviteParams.self, params)
            do {
                let invite = try Invite(id: shell.identityID, name: p.name, relays: p.relays ?? [])
                return try .from(InviteInfo(invite: invite.description))
            } catch let e as Invite.Failure {
                throw RPCErrorObject(code: RPC.ErrorCode.badInvite, message: e.description)
            }
        default:
            return nil
        }
    }

    func unknownContact(_ name: String) -> RPCErrorObject {
        RPCErrorObject(
            code: RPC.ErrorCode.unknownContact,
            message: "no contact named '\(name.prefix(80))'; add one with contacts.add")
    }
}
