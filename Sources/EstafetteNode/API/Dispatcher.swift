import EstafetteAPI
import EstafetteCore
import Foundation

/// Turns one JSON-RPC request into a result or an error a person can understand.
struct Dispatcher: Sendable {
    let shell: NodeShell
    /// The relay side (link key, relays, quota); nil in a node built without one (tests of other parts).
    var relay: RelayContext? = nil

    static let methods: [String] = [
        RPC.Method.nodeStatus, RPC.Method.identityShow, RPC.Method.contactsAdd, RPC.Method.contactsList,
        RPC.Method.contactsRemove, RPC.Method.messagesSend, RPC.Method.alertsPost, RPC.Method.alertsFollow,
        RPC.Method.alertsUnfollow, RPC.Method.alertsFollowing, RPC.Method.inboxList, RPC.Method.inboxMarkRead,
        RPC.Method.subscribe, RPC.Method.peersList,
    ]

    /// The answer to a request: now, or (for a send) once its group commit is done, without holding up the
    /// requests behind it.
    enum Answer: Sendable {
        case now(JSONValue)
        case afterCommit(NodeShell.Prepared)

        static func from<T: Encodable>(_ value: T) throws -> Answer { .now(try JSONValue.from(value)) }
    }

    /// The answer to a send, once it is durable.
    func finish(_ prepared: NodeShell.Prepared) async throws(RPCErrorObject) -> JSONValue {
        let id = try await operation { try await shell.complete(prepared) }
        // MessageSent as a JSON value, built directly (the Codable round trip cost more than the rest of the answer).
        return .object(["message_id": .string(id.hex)])
    }

    func handle(method: String, params: JSONValue?) async throws(RPCErrorObject) -> Answer {
        do {
            return try await answer(method: method, params: params)
        } catch let e as RPCErrorObject {
            throw e
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.internalError, message: "internal error: \(error)")
        }
    }

    private func answer(method: String, params: JSONValue?) async throws -> Answer {
        // By-name params only, for every method, including those that take none (docs/api.md).
        if let params, params != .null, case .object = params {} else if let params, params != .null {
            throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "params must be a JSON object")
        }
        switch method {
        case RPC.Method.nodeStatus:
            var status = await shell.status()
            status.relay = try await relayStatus()
            return try .from(status)
        case RPC.Method.identityShow:
            let id = shell.identityID
            return try .from(
                IdentityInfo(id: id.description, fingerprint: id.fingerprint, link_key: relay?.linkKey.publicKeyHex))
        case RPC.Method.contactsAdd:
            return try .from(try addContact(try decode(ContactsAddParams.self, params)))
        case RPC.Method.contactsList:
            let list = try storage { try shell.store.contacts() }
            return try .from(
                ContactsList(
                    contacts: list.compactMap { c in
                        (try? SigningPublicKey(validating: c.key)).map {
                            Contact(name: c.name, id: PublicID(key: $0).description, verified: c.verified)
                        }
                    }))
        case RPC.Method.contactsRemove:
            let p = try decode(ContactsRemoveParams.self, params)
            guard try storage({ try shell.store.removeContact(name: p.name) }) else {
                throw RPCErrorObject(code: RPC.ErrorCode.unknownContact, message: "no contact named '\(p.name)'")
            }
            return try .from(OK())
        case RPC.Method.messagesSend:
            let p = try Self.sendParams(params) ?? decode(MessagesSendParams.self, params)
            let recipient = try resolveRecipient(p.to)
            try checkText(p.text)
            // The node validates and converts the key once per identity.
            let expiresIn = try Self.lifetime(p.expires_in)
            let prepared = try await operation {
                try await shell.prepareDirect(to: recipient, text: p.text, expiresIn: expiresIn)
            }
            return .afterCommit(prepared)
        case RPC.Method.alertsPost:
            let p = try decode(AlertsPostParams.self, params)
            try checkText(p.text)
            let prepared = try await operation { try await shell.prepareAlert(text: p.text) }
            return .afterCommit(prepared)
        case RPC.Method.alertsFollow:
            let p = try decode(AlertsFollowParams.self, params)
            let key = try parseID(p.id)
            try storage { try shell.store.follow(key: key.bytes, at: wallClockMillis() / 1000) }
            return try .from(OK())
        case RPC.Method.alertsUnfollow:
            let p = try decode(AlertsFollowParams.self, params)
            let key = try parseID(p.id)
            _ = try storage { try shell.store.unfollow(key: key.bytes) }
            return try .from(OK())
        case RPC.Method.alertsFollowing:
            let keys = try storage { try shell.store.followed() }
            return try .from(
                AlertsFollowing(
                    following: keys.compactMap { k in
                        (try? SigningPublicKey(validating: k)).map { PublicID(key: $0).description }
                    }))
        case RPC.Method.inboxList:
            let p = try decode(InboxListParams.self, params)
            let limit = p.limit ?? 100
            guard (1...1000).contains(limit) else {
                throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "limit must be between 1 and 1000")
            }
            let rows = try storage {
                try shell.store.inbox(
                    limit: limit, since: p.since, unreadOnly: p.unread ?? false, requests: p.requests ?? false)
            }
            return try .from(InboxList(messages: rows.map(InboxItem.init)))
        case RPC.Method.inboxMarkRead:
            let p = try decode(InboxMarkReadParams.self, params)
            guard p.message_ids.count <= 1000 else {
                throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "at most 1000 message_ids at once")
            }
            var ids: [EnvelopeID] = []
            for s in p.message_ids {
                guard let id = EnvelopeID(hex: s) else {
                    throw RPCErrorObject(
                        code: RPC.ErrorCode.invalidParams,
                        message: "'\(s.prefix(80))' is not a message_id (64 hex digits)")
                }
                ids.append(id)
            }
            let n = try storage { try shell.store.markRead(ids) }
            return try .from(MarkedRead(marked: n))
        case RPC.Method.subscribe:
            _ = try decode(Empty.self, params)
            return try .from(Subscribed(subscribed: true))
        case RPC.Method.peersList:
            let peers = await shell.peers().map {
                Peer(session: hex64($0.session), address: $0.address.description, last_seen: $0.lastSeen / 1000)
            }
            return try .from(PeersList(peers: peers))
        default:
            if let answer = try await relayAnswer(method: method, params: params) { return answer }
            if let answer = try await channelAnswer(method: method, params: params) { return answer }
            if let answer = try await wipeAnswer(method: method, params: params) { return answer }
            if let answer = try peopleAnswer(method: method, params: params) { return answer }
            if let answer = try receiptAnswer(method: method, params: params) { return answer }
            throw RPCErrorObject(
                code: RPC.ErrorCode.methodNotFound,
                message:
                    "unknown method '\(method.prefix(80))'; known methods: \((Self.methods + Self.relayMethods + Self.channelMethods + Self.wipeMethods + Self.peopleMethods + Self.receiptMethods).joined(separator: ", "))"
            )
        }
    }

    // MARK: - Helpers

    /// `messages.send` params read straight from the JSON value when they are well formed (the common case);
    /// nil otherwise, and `decode` then says what is wrong, as for every other method.
    static func sendParams(_ params: JSONValue?) -> MessagesSendParams? {
        guard case .object(let o) = params, case .string(let to) = o["to"], case .string(let text) = o["text"],
            o["expires_in"] == nil
        else {
            return nil
        }
        return MessagesSendParams(to: to, text: text)
    }

    func decode<T: Decodable>(_ type: T.Type, _ params: JSONValue?) throws(RPCErrorObject) -> T {
        // Omitted and `null` params both mean none (docs/api.md).
        let value = params == nil || params == .null ? .object([:]) : params!
        guard case .object = value else {
            throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "params must be a JSON object")
        }
        do {
            return try value.decode(T.self)
        } catch let e as DecodingError {
            throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: Self.describe(e))
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "invalid params: \(error)")
        }
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ ctx: DecodingError.Context, _ extra: (any CodingKey)? = nil) -> String {
            let keys = ctx.codingPath + (extra.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let key, let ctx):
            return "params: missing '\(path(ctx, key))'"
        case .typeMismatch(let type, let ctx):
            return "params: '\(path(ctx))' must be \(Self.typeName(type))"
        case .valueNotFound(let type, let ctx):
            return "params: '\(path(ctx))' must be \(Self.typeName(type)), not null"
        case .dataCorrupted(let ctx):
            let p = path(ctx)
            return p.isEmpty
                ? "invalid params: \(ctx.debugDescription)" : "params: '\(p)' is invalid: \(ctx.debugDescription)"
        @unknown default:
            return "invalid params"
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "an array of strings"
        case is Double.Type, is Float.Type: return "a number"
        case is [Any].Type: return "an array"
        case is [String: Any].Type: return "an object"
        default: return "of type \(t)"
        }
    }

    func storage<T>(_ body: () throws -> T) throws(RPCErrorObject) -> T {
        do {
            return try body()
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.storageFailure, message: "database error: \(error)")
        }
    }

    func operation<T: Sendable>(_ body: () async throws -> T) async throws(RPCErrorObject) -> T {
        do {
            return try await body()
        } catch let e as NodeShell.OperationError {
            throw RPCErrorObject(code: e.code, message: e.message)
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.internalError, message: "\(error)")
        }
    }

    func parseID(_ text: String) throws(RPCErrorObject) -> SigningPublicKey {
        do {
            return try PublicID(parsing: text).key
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.badID, message: error.description)
        }
    }

    func checkText(_ text: String) throws(RPCErrorObject) {
        let n = text.utf8.count
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw RPCErrorObject(code: RPC.ErrorCode.emptyText, message: "text is empty (or only whitespace)")
        }
        guard n <= RPC.maxTextBytes else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.textTooLong,
                message: "text is \(n) bytes; the limit is \(RPC.maxTextBytes) bytes of UTF-8")
        }
    }

    /// A contact name, else a textual ID, as key bytes. Names never start with the ID prefix, so the two cannot
    /// be confused.
    func resolveRecipient(_ to: String) throws(RPCErrorObject) -> [UInt8] {
        if let key = try storage({ try shell.store.contactKey(name: to) }) {
            return key
        }
        if to.lowercased().hasPrefix(PublicID.prefix) {
            return try parseID(to).bytes
        }
        throw RPCErrorObject(
            code: RPC.ErrorCode.unknownContact,
            message: "no contact named '\(to.prefix(80))'; add one with contacts.add or give a full ID")
    }

    func addContact(_ p: ContactsAddParams) throws(RPCErrorObject) -> ContactAdded {
        let name = p.name
        guard !name.isEmpty, name.count <= 64 else {
            throw RPCErrorObject(code: RPC.ErrorCode.badContactName, message: "a contact name has 1 to 64 characters")
        }
        guard name.trimmingWhitespace() == name else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.badContactName, message: "a contact name cannot start or end with whitespace")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.badContactName, message: "a contact name cannot hold control characters")
        }
        guard !name.lowercased().hasPrefix(PublicID.prefix) else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.badContactName,
                message: "a contact name cannot start with '\(PublicID.prefix)' (that is how IDs start)")
        }
        let key: SigningPublicKey
        var added = ContactAdded()
        switch (p.id, p.invite) {
        case (let id?, nil):
            key = try parseID(id)
        case (nil, let text?):
            let invite: Invite
            do {
                invite = try Invite(parsing: text)
            } catch {
                throw RPCErrorObject(code: RPC.ErrorCode.badInvite, message: error.description)
            }
            key = invite.id.key
            added = ContactAdded(invite_name: invite.name, relays: invite.relays)
        case (nil, nil):
            throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "params: missing 'id' (or 'invite')")
        case (.some, .some):
            throw RPCErrorObject(code: RPC.ErrorCode.invalidParams, message: "params: give 'id' or 'invite', not both")
        }
        do {
            try shell.store.addContact(name: name, key: key.bytes)
        } catch Store.ContactConflict.nameTaken(let existing) {
            // The same person again (an invite scanned twice): nothing to do.
            if existing == key.bytes { return added }
            throw RPCErrorObject(
                code: RPC.ErrorCode.contactExists,
                message: "a contact named '\(name)' already exists with another ID; remove it first if the ID changed")
        } catch Store.ContactConflict.keyTaken(let other) {
            throw RPCErrorObject(
                code: RPC.ErrorCode.contactExists, message: "this ID is already saved as contact '\(other)'")
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.storageFailure, message: "database error: \(error)")
        }
        return added
    }
}

func hex64(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
