import EstafetteAPI
import EstafetteCore
import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// JSON-RPC 2.0 over a Unix stream socket, one JSON object per line (mode 0660).
///
/// A request line longer than `RPC.maxLineBytes` gets a -32600 error and the connection is closed. Each connection
/// is served by its own task and fails on its own; `subscribe` adds notifications to the same connection.
public struct APIServer: Sendable {
    let path: String
    let dispatcher: Dispatcher
    let hub: NotificationHub
    let logger: Logger

    public init(path: String, shell: NodeShell, relay: RelayContext? = nil, logger: Logger) {
        self.path = path
        self.dispatcher = Dispatcher(shell: shell, relay: relay)
        self.hub = shell.hub
        self.logger = logger
    }

    public struct AlreadyRunning: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "another estafetted is already listening on \(path)" }
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Binds the socket now (so start-up errors surface before the daemon reports ready); `run()` serves it.
    public func bind() async throws -> BoundServer {
        if Self.somethingListens(at: path) { throw AlreadyRunning(path: path) }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        }
        let old = umask(0o117)  // socket file 0660 from the start: no chmod race
        defer { umask(old) }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            // `echo '{…}' | socat - UNIX-CONNECT:…` half-closes after the request: still answer it.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        // Room for the terminator; the exact bound is checked per line in `serve`.
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: RPC.maxLineBytes + 2))
                    return try Connection(wrappingChannelSynchronously: child)
                }
            }
        return BoundServer(channel: server)
    }

    public struct BoundServer: Sendable {
        let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    }

    public func run(bound: BoundServer) async throws {
        logger.info("API listening", metadata: ["api.socket": "\(path)"])
        let dispatcher = self.dispatcher
        let hub = self.hub
        let logger = self.logger
        defer {
            hub.finishAll()
            unlink(path)
        }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await bound.channel.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask {
                                await serve(connection, dispatcher: dispatcher, hub: hub, logger: logger)
                            }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Graceful shutdown: connections are closed by cancellation.
        }
        logger.info("API stopped")
    }

    static func somethingListens(at path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return rc == 0
    }
}

/// A bound API server as a Service for the ServiceGroup.
public struct BoundAPIService: Service, CustomStringConvertible {
    public var description: String { "APIServer(\(server.path))" }
    let server: APIServer
    let bound: APIServer.BoundServer

    public init(server: APIServer, bound: APIServer.BoundServer) {
        self.server = server
        self.bound = bound
    }

    public func run() async throws {
        try await server.run(bound: bound)
    }
}

/// Sends whose answer waits for the group commit, per connection, before the connection stops reading.
let maxDeferredPerConnection = 256

private func serve(
    _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, dispatcher: Dispatcher, hub: NotificationHub,
    logger: Logger
) async {
    do {
        try await connection.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                var subscription: Int? = nil
                var deferred = 0
                // Answers that a group commit makes ready together leave in one write.
                let answers = LineBatcher()
                defer { if let s = subscription { hub.unsubscribe(s) } }
                do {
                    for try await line in inbound {
                        guard line.readableBytes <= RPC.maxLineBytes else {
                            throw ByteToMessageDecoderError.PayloadTooLargeError()
                        }
                        // Requests run in order; a send's answer waits for its commit in a child task, so a
                        // client that pipelines many sends gets them committed in groups.
                        switch await respond(to: line, dispatcher: dispatcher) {
                        case .none:
                            break
                        case .now(let response, let subscribe):
                            try await outbound.write(response)
                            if subscribe, subscription == nil {
                                let (id, queue) = hub.subscribe()
                                subscription = id
                                tasks.addTask {
                                    // Everything queued since the last write goes out in one write.
                                    while let items = await queue.next() {
                                        var lines: [UInt8] = []
                                        for item in items {
                                            let n = RPCNotification(method: RPC.Method.messageReceived, params: item)
                                            lines += n.jsonLine
                                        }
                                        try await outbound.write(ByteBuffer(bytes: lines))
                                    }
                                }
                            }
                        case .later(let answer):
                            if deferred >= maxDeferredPerConnection {
                                try await tasks.next()
                                deferred -= 1
                            }
                            deferred += 1
                            tasks.addTask {
                                if let response = await answer() {
                                    try await answers.send(response) { try await outbound.write($0) }
                                }
                            }
                        }
                    }
                } catch is ByteToMessageDecoderError.PayloadTooLargeError {
                    let e = RPCErrorObject(
                        code: RPC.ErrorCode.invalidRequest,
                        message: "request line longer than \(RPC.maxLineBytes) bytes; the connection is closed")
                    try? await outbound.write(encodeLine(RPCResponse(id: .null, error: e)))
                    tasks.cancelAll()
                    return
                }
                // The client closed its sending side. Pending answers are still written; a subscriber keeps
                // receiving notifications until it closes the connection entirely (the next write then fails)
                // or the daemon stops.
                try await tasks.waitForAll()
            }
        }
    } catch {
        logger.debug("API connection ended with an error", metadata: ["error": "\(error)"])
    }
}

/// A response line, written without Foundation's coders (the API's hot path).
func encodeLine(_ response: RPCResponse) -> ByteBuffer {
    ByteBuffer(bytes: response.jsonLine)
}

func encodeLine<T: Encodable>(_ value: T) -> ByteBuffer {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
    var data =
        (try? encoder.encode(value))
        ?? Data(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"cannot encode response"}}"#.utf8)
    data.append(0x0A)
    return ByteBuffer(bytes: data)
}

/// What to do with one request line.
enum Reply: Sendable {
    /// Nothing to send (a blank line or a notification).
    case none
    /// Send this line now; `subscribe` tells whether the connection subscribed.
    case now(ByteBuffer, subscribe: Bool)
    /// The answer comes after the group commit (nil for a notification).
    case later(@Sendable () async -> ByteBuffer?)
}

/// Handles one request line.
func respond(to line: ByteBuffer, dispatcher: Dispatcher) async -> Reply {
    let bytes = line.readableBytesView
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .none }  // blank line
    func fail(_ id: JSONValue, _ code: Int, _ message: String) -> Reply {
        .now(encodeLine(RPCResponse(id: id, error: RPCErrorObject(code: code, message: message))), subscribe: false)
    }
    let value: JSONValue
    do {
        value = try JSONText.parse(bytes)
    } catch {
        return fail(.null, RPC.ErrorCode.parseError, "parse error: the line is not valid JSON")
    }
    guard case .object(let obj) = value else {
        if case .array = value {
            return fail(
                .null, RPC.ErrorCode.invalidRequest, "batch requests are not supported: send one JSON object per line")
        }
        return fail(.null, RPC.ErrorCode.invalidRequest, "a request must be a JSON object")
    }
    let id = obj["id"]
    let replyID: JSONValue
    switch id {
    case .none, .some(.null): replyID = .null
    case .some(.string), .some(.int), .some(.double): replyID = id!
    default: return fail(.null, RPC.ErrorCode.invalidRequest, "id must be a string, a number or null")
    }
    guard obj["jsonrpc"] == .string("2.0") else {
        return fail(replyID, RPC.ErrorCode.invalidRequest, "\"jsonrpc\" must be \"2.0\"")
    }
    guard case .string(let method) = obj["method"] else {
        return fail(replyID, RPC.ErrorCode.invalidRequest, "\"method\" must be a string")
    }
    let isNotification = id == nil
    let answer: Dispatcher.Answer
    do {
        answer = try await dispatcher.handle(method: method, params: obj["params"])
    } catch {
        return isNotification ? .none : fail(replyID, error.code, error.message)
    }
    switch answer {
    case .now(let result):
        if isNotification { return .none }
        return .now(encodeLine(RPCResponse(id: replyID, result: result)), subscribe: method == RPC.Method.subscribe)
    case .afterCommit(let prepared):
        return .later {
            let response: RPCResponse
            do throws(RPCErrorObject) {
                response = RPCResponse(id: replyID, result: try await dispatcher.finish(prepared))
            } catch {
                response = RPCResponse(id: replyID, error: error)
            }
            return isNotification ? nil : encodeLine(response)
        }
    }
}
