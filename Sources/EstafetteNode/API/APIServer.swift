import EstafetteAPI
import EstafetteCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// JSON-RPC 2.0 over a Unix stream socket, one JSON object per line (mode 0660).
///
/// A request line longer than `RPC.maxLineBytes` gets a -32600 error and the connection is closed. Each connection
/// is served by its own task and fails on its own; `subscribe` adds notifications to the same connection. At most
/// `maxConnections` are served at once (``ConnectionTable``): a new one takes the place of the one idle longest, or,
/// when all are busy or subscribed, gets a -32020 error line and is closed; so a client that leaks connections can
/// neither use up the daemon's file descriptors nor lock out the next script. Every refusal and eviction is counted
/// (`api.drop.*`).
public struct APIServer: Sendable {
    let path: String
    let dispatcher: Dispatcher
    let hub: NotificationHub
    let logger: Logger
    let maxConnections: Int
    let counters: LockedCounters

    public init(
        path: String, shell: NodeShell, relay: RelayContext? = nil, logger: Logger, maxConnections: Int = 64
    ) {
        self.path = path
        self.dispatcher = Dispatcher(shell: shell, relay: relay)
        self.hub = shell.hub
        self.logger = logger
        self.maxConnections = maxConnections
        self.counters = shell.apiCounters
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
        let counters = self.counters
        let maxConnections = self.maxConnections
        let table = ConnectionTable(limit: maxConnections)
        defer {
            hub.finishAll()
            unlink(path)
        }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await bound.channel.executeThenClose { connections in
                        for try await connection in connections {
                            switch table.admit(connection.channel) {
                            case .refused:
                                counters.add("api.drop.connection_limit")
                                group.addTask { await refuse(connection, limit: maxConnections) }
                            case .admitted(let id, let evicted):
                                if let evicted {
                                    counters.add("api.drop.idle_evicted")
                                    evicted.close(promise: nil)
                                }
                                group.addTask {
                                    defer { table.remove(id) }
                                    await serve(
                                        connection, dispatcher: dispatcher, hub: hub, counters: counters,
                                        activity: { pending, subscribed in
                                            table.update(id, pending: pending, subscribed: subscribed)
                                        }, logger: logger)
                                }
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

/// Answers a connection beyond the limit with one error line, then closes it.
private func refuse(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, limit: Int) async {
    let e = RPCErrorObject(
        code: RPC.ErrorCode.busy,
        message: "too many connections: this daemon serves \(limit) at once (api.max_connections); close idle "
            + "ones or try again later")
    try? await connection.executeThenClose { _, outbound in
        try await outbound.write(encodeLine(RPCResponse(id: .null, error: e)))
    }
}

private func serve(
    _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, dispatcher: Dispatcher, hub: NotificationHub,
    counters: LockedCounters, activity: @escaping @Sendable (_ pending: Int, _ subscribed: Bool?) -> Void,
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
                        activity(1, nil)
                        switch await respond(to: line, dispatcher: dispatcher, counters: counters) {
                        case .none:
                            activity(-1, nil)
                        case .now(let response, let subscribe):
                            defer { activity(-1, nil) }
                            try await outbound.write(response)
                            if subscribe, subscription == nil {
                                let (id, queue) = hub.subscribe()
                                subscription = id
                                activity(0, true)
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
                                counters.add("api.backpressure")
                                try await tasks.next()
                                deferred -= 1
                            }
                            deferred += 1
                            tasks.addTask {
                                defer { activity(-1, nil) }
                                if let response = await answer() {
                                    try await answers.send(response) { try await outbound.write($0) }
                                }
                            }
                        }
                    }
                } catch is ByteToMessageDecoderError.PayloadTooLargeError {
                    counters.add("api.drop.line_too_long")
                    let e = RPCErrorObject(
                        code: RPC.ErrorCode.invalidRequest,
                        message: "request line longer than \(RPC.maxLineBytes) bytes; the connection is closed")
                    try? await outbound.write(encodeLine(RPCResponse(id: .null, error: e)))
                    tasks.cancelAll()
                    return
                }
                // The client closed its sending side. Pending answers are still written; a subscriber keeps
                // receiving notifications until it closes the connection entirely (the next write then fails)
                // or the daemon stops. Until then it may be gone already: its place counts as idle, so a new
                // connection may take it.
                activity(0, false)
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
func respond(to line: ByteBuffer, dispatcher: Dispatcher, counters: LockedCounters? = nil) async -> Reply {
    let parsed = RequestLine(parsing: line.readableBytesView)
    guard case .batch(let items) = parsed else {
        return await respond(to: parsed, dispatcher: dispatcher, counters: counters)
    }
    // A batch: each request in turn, the answers in one array (JSON-RPC 2.0 section 6).
    var replies: [Reply] = []
    for item in items {
        if case .call(let id, RPC.Method.subscribe, _) = item {
            counters?.add("api.drop.invalid_request")
            replies.append(
                .now(
                    encodeLine(
                        RPCResponse(
                            id: id ?? .null,
                            error: RPCErrorObject(
                                code: RPC.ErrorCode.invalidRequest,
                                message: "subscribe cannot be part of a batch: send it on its own line"))),
                    subscribe: false))
            continue
        }
        replies.append(await respond(to: item, dispatcher: dispatcher, counters: counters))
    }
    var now: [ByteBuffer] = []
    var waiting = false
    for reply in replies {
        switch reply {
        case .none: break
        case .now(let b, _): now.append(b)
        case .later: waiting = true
        }
    }
    if !waiting { return now.isEmpty ? .none : .now(batchLine(now), subscribe: false) }
    let answered = replies
    return .later {
        var parts: [ByteBuffer] = []
        for reply in answered {
            switch reply {
            case .none: break
            case .now(let b, _): parts.append(b)
            case .later(let finish): if let b = await finish() { parts.append(b) }
            }
        }
        return parts.isEmpty ? nil : batchLine(parts)
    }
}

/// Answer lines (each ending in a newline) as one line holding their array.
func batchLine(_ lines: [ByteBuffer]) -> ByteBuffer {
    var out = ByteBuffer()
    out.writeInteger(UInt8(ascii: "["))
    for (i, var line) in lines.enumerated() {
        if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == 0x0A {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        out.writeBuffer(&line)
    }
    out.writeString("]\n")
    return out
}

/// Handles one request (a line's, or one of a batch).
private func respond(to request: RequestLine, dispatcher: Dispatcher, counters: LockedCounters?) async -> Reply {
    func fail(_ id: JSONValue, _ error: RPCErrorObject) -> Reply {
        .now(encodeLine(RPCResponse(id: id, error: error)), subscribe: false)
    }
    let id: JSONValue?
    let method: String
    let params: JSONValue?
    switch request {
    case .blank, .batch:
        return .none
    case .invalid(let replyID, let error):
        counters?.add(error.code == RPC.ErrorCode.parseError ? "api.drop.parse_error" : "api.drop.invalid_request")
        return fail(replyID, error)
    case .call(let i, let m, let p):
        (id, method, params) = (i, m, p)
    }
    let replyID = id ?? .null
    let isNotification = id == nil
    let answer: Dispatcher.Answer
    do {
        answer = try await dispatcher.handle(method: method, params: params)
    } catch {
        return isNotification ? .none : fail(replyID, error)
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
