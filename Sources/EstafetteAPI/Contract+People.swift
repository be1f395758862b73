#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Verification and invites (docs/api.md: contacts.safety_number, contacts.verify, identity.invite).
extension RPC.Method {
    public static let contactsSafetyNumber = "contacts.safety_number"
    public static let contactsVerify = "contacts.verify"
    public static let identityInvite = "identity.invite"
}

extension RPC.ErrorCode {
    /// contacts.add: the invite is damaged or not an invite; identity.invite: a name or relay hint the invite
    /// format cannot carry.
    public static let badInvite = -32070
}

public struct IdentityInviteParams: Codable, Sendable {
    /// The display name to put in the invite (what the contact's node suggests as a name).
    public var name: String
    /// Relay hints ("host:port"), at most 4.
    public var relays: [String]?
    public init(name: String, relays: [String]? = nil) {
        self.name = name
        self.relays = relays
    }
}

public struct InviteInfo: Codable, Sendable, Equatable {
    /// The one-line invite.
    public var invite: String
    public init(invite: String) { self.invite = invite }
}

/// contacts.add's answer: `ok`, and with an invite what it carried besides the ID.
public struct ContactAdded: Codable, Sendable, Equatable {
    public var ok: Bool
    /// The name the contact chose for themselves, from the invite.
    public var invite_name: String?
    /// The relay hints from the invite (add them with relays.add if wanted).
    public var relays: [String]?
    public init(ok: Bool = true, invite_name: String? = nil, relays: [String]? = nil) {
        self.ok = ok
        self.invite_name = invite_name
        self.relays = relays
    }
}

/// `contacts.safety_number` / `contacts.verify` params: a contact's name.
public struct ContactNameParams: Codable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct SafetyNumberInfo: Codable, Sendable, Equatable {
    public var name: String
    /// The contact's ID.
    public var id: String
    /// 60 digits in 12 groups of 5, separated by spaces: the same on both sides.
    public var safety_number: String
    /// Whether the contact is marked verified already.
    public var verified: Bool

    public init(name: String, id: String, safety_number: String, verified: Bool) {
        self.name = name
        self.id = id
        self.safety_number = safety_number
        self.verified = verified
    }
}

/// What an inbox item's `sender` says about who sent it.
public enum SenderTrust {
    /// A contact marked verified with `contacts.verify`.
    public static let verified = "verified"
    /// A contact, not verified.
    public static let contact = "contact"
    /// Not a contact.
    public static let unknown = "unknown"
}
