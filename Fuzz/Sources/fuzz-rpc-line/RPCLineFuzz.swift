import EstafetteAPI
import EstafetteCore
import EstafetteNode
import Foundation
import FuzzSupport

/// Fuzz target `rpc-line`: one API request line (as the line framing delivers it: no `\n`, no trailing `\r`)
/// through `RequestLine(parsing:)`, the function the daemon's API server answers from, then the params of a
/// known method through the contract's types, as the dispatcher decodes them, and the IDs in them through
/// their parsers.
///
/// Checks: a blank line is exactly one of spaces, tabs and carriage returns; a batch holds 1…`maxBatch` calls and
/// errors; an error is a parse error or an invalid request, under an id the client can match (null, a string or
/// a number), and its response encodes; a call re-encoded as a request parses back to the same call.
enum RPCLineFuzz {
    static func run(_ bytes: [UInt8]) {
        var line = bytes.prefix { $0 != 0x0A }
        if line.last == 0x0D { line = line.dropLast() }
        let data = Data(line)
        let parsed = RequestLine(parsing: data)
        let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        fuzzCheck((parsed == .blank) == blank, "blank line misjudged: \(parsed)")
        switch parsed {
        case .blank:
            break
        case .batch(let items):
            fuzzCheck((1...RequestLine.maxBatch).contains(items.count), "batch of \(items.count)")
            for item in items {
                switch item {
                case .blank, .batch: fuzzCheck(false, "a batch holds \(item)")
                default: check(item)
                }
            }
        default:
            check(parsed)
        }
    }

    /// A request alone on its line, or one of a batch.
    static func check(_ parsed: RequestLine) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        switch parsed {
        case .blank, .batch:
            break
        case .invalid(let id, let error):
            fuzzCheck(isReplyID(id), "error under id \(id)")
            fuzzCheck(
                [RPC.ErrorCode.parseError, RPC.ErrorCode.invalidRequest].contains(error.code),
                "unexpected error code \(error.code)")
            fuzzCheck((try? encoder.encode(RPCResponse(id: id, error: error))) != nil, "error response does not encode")
        case .call(let id, let method, let params):
            if let id { fuzzCheck(isReplyID(id), "call with id \(id)") }
            fuzzCheck(
                (try? encoder.encode(RPCResponse(id: id ?? .null, result: .null))) != nil,
                "response to id \(String(describing: id)) does not encode")
            // Written as the API writes answers (JSONText keeps a number's text, as an id must come back).
            var request: [String: JSONValue] = ["jsonrpc": .string("2.0"), "method": .string(method)]
            if let id { request["id"] = id }
            if let params { request["params"] = params }
            let reparsed = RequestLine(parsing: Data(JSONText.serialize(.object(request))))
            fuzzCheck(
                reparsed == parsed, "re-encoded request parses differently: \(parsed) → \(reparsed)")
            decodeParams(method: method, params: params)
        }
    }

    static func isReplyID(_ id: JSONValue) -> Bool {
        switch id {
        case .null, .string, .int, .double, .number: return true
        default: return false
        }
    }

    /// The params types of the methods that take params, decoded as the dispatcher does; their IDs parsed.
    static func decodeParams(method: String, params: JSONValue?) {
        let value = params ?? .object([:])
        guard case .object = value else { return }
        switch method {
        case RPC.Method.contactsAdd:
            if let p = try? value.decode(ContactsAddParams.self) {
                if let id = p.id { _ = try? PublicID(parsing: id) }
                if let invite = p.invite { _ = try? Invite(parsing: invite) }
            }
        case RPC.Method.contactsRemove:
            _ = try? value.decode(ContactsRemoveParams.self)
        case RPC.Method.messagesSend:
            if let p = try? value.decode(MessagesSendParams.self) { _ = try? PublicID(parsing: p.to) }
        case RPC.Method.alertsPost:
            _ = try? value.decode(AlertsPostParams.self)
        case RPC.Method.alertsFollow, RPC.Method.alertsUnfollow:
            if let p = try? value.decode(AlertsFollowParams.self), let id = try? PublicID(parsing: p.id) {
                fuzzCheck((try? PublicID(parsing: id.description))?.key == id.key, "ID does not print and parse back")
            }
        case RPC.Method.inboxList:
            _ = try? value.decode(InboxListParams.self)
        case RPC.Method.messagesStatus:
            if let p = try? value.decode(MessagesStatusParams.self), let id = EnvelopeID(hex: p.message_id) {
                fuzzCheck(id.hex == p.message_id.lowercased(), "message id \(p.message_id) parses to \(id.hex)")
            }
        case RPC.Method.messagesSent:
            _ = try? value.decode(MessagesSentParams.self)
        case RPC.Method.inboxMarkRead:
            if let p = try? value.decode(InboxMarkReadParams.self) {
                for s in p.message_ids.prefix(1000) {
                    if let id = EnvelopeID(hex: s) {
                        fuzzCheck(id.hex == s.lowercased(), "message id \(s) parses to \(id.hex)")
                    }
                }
            }
        default:
            _ = try? value.decode(Empty.self)
        }
    }
}
