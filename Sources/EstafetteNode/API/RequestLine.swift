import EstafetteAPI

/// One request line from an API client, checked against JSON-RPC 2.0: a call to dispatch, a blank line to
/// ignore, or the error to answer with. Pure (no I/O), so the fuzz target `rpc-line` drives it directly.
public enum RequestLine: Sendable, Equatable {
    /// Only spaces, tabs and carriage returns: ignored.
    case blank
    /// A well-formed request. `id` is nil for a notification (no answer is sent); `params` as given.
    case call(id: JSONValue?, method: String, params: JSONValue?)
    /// Not a valid request: answer `error` under `id` (null when the id could not be read).
    case invalid(id: JSONValue, error: RPCErrorObject)

    /// Parses one line (terminator stripped; its length was bounded by the framing).
    public init(parsing bytes: some Collection<UInt8>) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            self = .blank
            return
        }
        func fail(_ id: JSONValue, _ code: Int, _ message: String) -> RequestLine {
            .invalid(id: id, error: RPCErrorObject(code: code, message: message))
        }
        let value: JSONValue
        do {
            value = try JSONText.parse(bytes)
        } catch {
            self = fail(.null, RPC.ErrorCode.parseError, "parse error: the line is not valid JSON")
            return
        }
        guard case .object(let obj) = value else {
            if case .array = value {
                self = fail(
                    .null, RPC.ErrorCode.invalidRequest,
                    "batch requests are not supported: send one JSON object per line")
            } else {
                self = fail(.null, RPC.ErrorCode.invalidRequest, "a request must be a JSON object")
            }
            return
        }
        let id = obj["id"]
        let replyID: JSONValue
        switch id {
        case .none, .some(.null): replyID = .null
        case .some(.string), .some(.int), .some(.double): replyID = id!
        default:
            self = fail(.null, RPC.ErrorCode.invalidRequest, "id must be a string, a number or null")
            return
        }
        guard obj["jsonrpc"] == .string("2.0") else {
            self = fail(replyID, RPC.ErrorCode.invalidRequest, "\"jsonrpc\" must be \"2.0\"")
            return
        }
        guard case .string(let method) = obj["method"] else {
            self = fail(replyID, RPC.ErrorCode.invalidRequest, "\"method\" must be a string")
            return
        }
        self = .call(id: id, method: method, params: obj["params"])
    }
}
