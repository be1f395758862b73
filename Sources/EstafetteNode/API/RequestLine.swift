import EstafetteAPI

/// One request line from an API client, checked against JSON-RPC 2.0: a call to dispatch, a batch of them, a
/// blank line to ignore, or the error to answer with. Pure (no I/O), so the fuzz target `rpc-line` drives it
/// directly.
public indirect enum RequestLine: Sendable, Equatable {
    /// Only spaces, tabs and carriage returns: ignored.
    case blank
    /// A well-formed request. `id` is nil for a notification (no answer is sent); `params` as given.
    case call(id: JSONValue?, method: String, params: JSONValue?)
    /// Not a valid request: answer `error` under `id` (null when the id could not be read).
    case invalid(id: JSONValue, error: RPCErrorObject)
    /// A batch (JSON-RPC 2.0 section 6): 1…`maxBatch` elements, each a `.call` or an `.invalid`, answered
    /// together in one array (without the notifications' answers; nothing at all when every one is a
    /// notification).
    case batch([RequestLine])

    /// The most requests one batch may hold (each may start a send: the per-connection bound on requests in
    /// flight counts a batch as one).
    public static let maxBatch = 64

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
        switch value {
        case .array(let items):
            guard !items.isEmpty else {
                self = fail(.null, RPC.ErrorCode.invalidRequest, "an empty batch is not a request")
                return
            }
            guard items.count <= Self.maxBatch else {
                self = fail(
                    .null, RPC.ErrorCode.invalidRequest,
                    "a batch holds at most \(Self.maxBatch) requests; this one holds \(items.count)")
                return
            }
            self = .batch(items.map { Self(request: $0) })
        default:
            self = Self(request: value)
        }
    }

    /// One request object (alone on its line or in a batch).
    init(request value: JSONValue) {
        func fail(_ id: JSONValue, _ code: Int, _ message: String) -> RequestLine {
            .invalid(id: id, error: RPCErrorObject(code: code, message: message))
        }
        guard case .object(let obj) = value else {
            self = fail(.null, RPC.ErrorCode.invalidRequest, "a request must be a JSON object")
            return
        }
        let id = obj["id"]
        let replyID: JSONValue
        switch id {
        case .none, .some(.null): replyID = .null
        case .some(.string), .some(.int), .some(.double), .some(.number): replyID = id!
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
