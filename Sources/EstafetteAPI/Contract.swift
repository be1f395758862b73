#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The JSON-RPC 2.0 contract between `estafetted` and its clients (the `estafette` CLI and scripts).
///
/// Method names and fields here are a published contract: fields and methods may be added, never renamed.
public enum RPC {
    /// Longest request line the daemon accepts, terminator excluded. Longer lines get a -32600 error and the
    /// connection is closed (the rest of the line cannot be told apart from the next request).
    public static let maxLineBytes = 256 * 1024
    /// Longest message or alert text, in UTF-8 bytes.
    public static let maxTextBytes = 32_000

    public enum Method {
        public static let nodeStatus = "node.status"
        public static let identityShow = "identity.show"
        public static let contactsAdd = "contacts.add"
        public static let contactsList = "contacts.list"
        public static let contactsRemove = "contacts.remove"
        public static let messagesSend = "messages.send"
        public static let alertsPost = "alerts.post"
        public static let alertsFollow = "alerts.follow"
        public static let alertsUnfollow = "alerts.unfollow"
        public static let alertsFollowing = "alerts.following"
        public static let inboxList = "inbox.list"
        public static let inboxMarkRead = "inbox.mark_read"
        public static let subscribe = "subscribe"
        public static let peersList = "peers.list"
        /// Notification method pushed to subscribed connections.
        public static let messageReceived = "message.received"
    }

    /// JSON-RPC error codes: the standard ones and Estafette's own (-32000 … -32099).
    public enum ErrorCode {
        public static let parseError = -32700
        public static let invalidRequest = -32600
        public static let methodNotFound = -32601
        public static let invalidParams = -32602
        public static let internalError = -32603

        public static let unknownContact = -32001
        public static let badID = -32002
        public static let textTooLong = -32003
        public static let emptyText = -32004
        public static let contactExists = -32005
        public static let badContactName = -32006
        public static let ambiguousRecipient = -32007
        public static let storageFailure = -32010
        /// The daemon serves `api.max_connections` connections already; this one is closed.
        public static let busy = -32040
    }
}

// MARK: - Envelope of a request / response

public struct RPCErrorObject: Codable, Sendable, Error, Equatable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }
}

public struct RPCRequest: Codable, Sendable {
    public var jsonrpc: String
    public var id: JSONValue?
    public var method: String
    public var params: JSONValue?

    public init(id: JSONValue?, method: String, params: JSONValue? = nil) {
        self.jsonrpc = "2.0"
        self.id = id
        self.method = method
        self.params = params
    }
}

public struct RPCResponse: Codable, Sendable {
    public var jsonrpc: String = "2.0"
    public var id: JSONValue
    public var result: JSONValue?
    public var error: RPCErrorObject?

    public init(id: JSONValue, result: JSONValue) {
        self.id = id
        self.result = result
    }

    public init(id: JSONValue, error: RPCErrorObject) {
        self.id = id
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(jsonrpc, forKey: .jsonrpc)
        try c.encode(id, forKey: .id)
        if let error {
            try c.encode(error, forKey: .error)
        } else {
            try c.encode(result ?? .null, forKey: .result)
        }
    }
}

public struct RPCNotification<Params: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc: String = "2.0"
    public var method: String
    public var params: Params

    public init(method: String, params: Params) {
        self.method = method
        self.params = params
    }
}

// MARK: - Method parameters and results

public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}

public struct NodeStatus: Codable, Sendable, Equatable {
    public var id: String
    public var version: String
    public var peers: Int
    public var envelopes: Int
    public var uptime_s: Int
    public var counters: [String: Int64]
    /// What the node can tell about its own clock from the envelopes it hears.
    public var clock: ClockInfo?
    /// Relay store, quota and links (Contract+Relay.swift).
    public var relay: RelayStatus?

    public init(
        id: String, version: String, peers: Int, envelopes: Int, uptime_s: Int, counters: [String: Int64],
        clock: ClockInfo? = nil, relay: RelayStatus? = nil
    ) {
        self.id = id
        self.version = version
        self.peers = peers
        self.envelopes = envelopes
        self.uptime_s = uptime_s
        self.counters = counters
        self.clock = clock
        self.relay = relay
    }
}

/// `node.status`'s `clock`: `suspect` is true when most envelopes heard lately (at least 8, from at least two
/// sources) were refused for their time, which is what a node whose own clock is far off sees. `skew_seconds` is
/// then the estimated offset of this node's clock, positive when it is ahead (a lower bound).
public struct ClockInfo: Codable, Sendable, Equatable {
    public var suspect: Bool
    public var skew_seconds: Int64?

    public init(suspect: Bool, skew_seconds: Int64?) {
        self.suspect = suspect
        self.skew_seconds = skew_seconds
    }
}

public struct IdentityInfo: Codable, Sendable, Equatable {
    public var id: String
    public var fingerprint: String
    /// The public key of this node's relay link key: 64 lowercase hex digits (docs/relays.md).
    public var link_key: String?

    public init(id: String, fingerprint: String, link_key: String? = nil) {
        self.id = id
        self.fingerprint = fingerprint
        self.link_key = link_key
    }
}

public struct Contact: Codable, Sendable, Equatable {
    public var name: String
    public var id: String
    /// Marked verified with `contacts.verify`, after comparing safety numbers.
    public var verified: Bool

    public init(name: String, id: String, verified: Bool = false) {
        self.name = name
        self.id = id
        self.verified = verified
    }
}

public struct ContactsAddParams: Codable, Sendable {
    public var name: String
    /// The contact's ID; or else `invite`.
    public var id: String?
    /// A one-line invite (`estafette:invite?…`, from `identity.invite`), instead of `id`.
    public var invite: String? = nil
    public init(name: String, id: String) {
        self.name = name
        self.id = id
    }
    public init(name: String, invite: String) {
        self.name = name
        self.invite = invite
    }
}

public struct ContactsList: Codable, Sendable, Equatable {
    public var contacts: [Contact]
    public init(contacts: [Contact]) { self.contacts = contacts }
}

public struct ContactsRemoveParams: Codable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct MessagesSendParams: Codable, Sendable {
    /// A contact name or a textual ID.
    public var to: String
    public var text: String
    /// Seconds until the message expires from the mesh and from the recipient's inbox (60 … 7 days); absent: the
    /// node's `messages.lifetime_hours`, and the recipient keeps it in its inbox.
    public var expires_in: Int? = nil
    public init(to: String, text: String, expires_in: Int? = nil) {
        self.to = to
        self.text = text
        self.expires_in = expires_in
    }
}

public struct MessageSent: Codable, Sendable, Equatable {
    public var message_id: String
    public init(message_id: String) { self.message_id = message_id }
}

public struct AlertsPostParams: Codable, Sendable {
    public var text: String
    public init(text: String) { self.text = text }
}

public struct AlertsFollowParams: Codable, Sendable {
    public var id: String
    public init(id: String) { self.id = id }
}

public struct AlertsFollowing: Codable, Sendable, Equatable {
    public var following: [String]
    public init(following: [String]) { self.following = following }
}

public struct InboxListParams: Codable, Sendable {
    /// At most this many messages (default 100, at most 1000), newest first.
    public var limit: Int?
    /// Only messages received at or after this time (Unix seconds).
    public var since: Int64?
    /// Only unread messages.
    public var unread: Bool?
    /// The requests instead: direct messages from senders who are not contacts, kept apart when
    /// `messages.accept_from = "contacts"`.
    public var requests: Bool? = nil

    public init(limit: Int? = nil, since: Int64? = nil, unread: Bool? = nil, requests: Bool? = nil) {
        self.limit = limit
        self.since = since
        self.unread = unread
        self.requests = requests
    }
}

public struct InboxItem: Codable, Sendable, Equatable {
    public var message_id: String
    /// "direct", "alert" or "channel".
    public var kind: String
    /// The sender's textual ID.
    public var from: String
    /// The contact name of the sender, when the sender is a contact.
    public var from_name: String?
    public var text: String
    /// Unix seconds, as stated by the sender (authenticated, not verified against any clock).
    public var created_at: Int64
    /// Unix seconds, by this node's clock.
    public var received_at: Int64
    public var read: Bool
    /// For alerts: whether the author is followed.
    public var followed: Bool?
    /// For channel posts: the name of the joined channel.
    public var channel: String? = nil
    /// Who the sender is to this node: "verified" (a verified contact), "contact" or "unknown" (`SenderTrust`).
    public var sender: String? = nil

    public init(
        message_id: String, kind: String, from: String, from_name: String?, text: String,
        created_at: Int64, received_at: Int64, read: Bool, followed: Bool? = nil
    ) {
        self.message_id = message_id
        self.kind = kind
        self.from = from
        self.from_name = from_name
        self.text = text
        self.created_at = created_at
        self.received_at = received_at
        self.read = read
        self.followed = followed
    }
}

public struct InboxList: Codable, Sendable, Equatable {
    public var messages: [InboxItem]
    public init(messages: [InboxItem]) { self.messages = messages }
}

public struct InboxMarkReadParams: Codable, Sendable {
    public var message_ids: [String]
    public init(message_ids: [String]) { self.message_ids = message_ids }
}

public struct MarkedRead: Codable, Sendable, Equatable {
    public var marked: Int
    public init(marked: Int) { self.marked = marked }
}

public struct Subscribed: Codable, Sendable, Equatable {
    public var subscribed: Bool
    public init(subscribed: Bool) { self.subscribed = subscribed }
}

public struct Peer: Codable, Sendable, Equatable {
    /// The peer's per-boot session ID (hex). It changes whenever the peer restarts.
    public var session: String
    public var address: String
    /// Unix seconds.
    public var last_seen: Int64

    public init(session: String, address: String, last_seen: Int64) {
        self.session = session
        self.address = address
        self.last_seen = last_seen
    }
}

public struct PeersList: Codable, Sendable, Equatable {
    public var peers: [Peer]
    public init(peers: [Peer]) { self.peers = peers }
}

public struct OK: Codable, Sendable, Equatable {
    public var ok: Bool
    public init(ok: Bool = true) { self.ok = ok }
}
