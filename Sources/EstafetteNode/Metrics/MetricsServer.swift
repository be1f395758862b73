import EstafetteAPI
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The optional Prometheus endpoint: `GET /metrics` answers the node's status as Prometheus text; anything
/// else gets 404 (or 405 for another method). Off unless `metrics.listen` is set.
///
/// Requests are small and bounded: NIOHTTP1's parser caps the header block, a body is discarded, and every
/// connection is closed after one answer.
public struct MetricsServer: Service, CustomStringConvertible {
    let listen: MetricsListen
    let shell: NodeShell
    let logger: Logger

    public var description: String { "MetricsServer(\(listen))" }

    public init(listen: MetricsListen, shell: NodeShell, logger: Logger) {
        self.listen = listen
        self.shell = shell
        self.logger = logger
    }

    public typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Binds now, so a port in use stops start-up with a clear error.
    public func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: listen.host, port: listen.port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: child)
                }
            }
    }

    public func run() async throws {
        let server = try await bind()
        try await run(bound: server)
    }

    public func run(bound server: NIOAsyncChannel<Connection, Never>) async throws {
        logger.info("metrics listening", metadata: ["metrics.listen": "\(listen)"])
        let shell = self.shell
        let logger = self.logger
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask {
                                do {
                                    try await Self.serve(connection, shell: shell)
                                } catch {
                                    logger.debug("metrics connection failed", metadata: ["error": "\(error)"])
                                }
                            }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
    }

    static func serve(_ connection: Connection, shell: NodeShell) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let h): head = h
                case .body: continue  // discarded
                case .end:
                    guard let h = head else { return }
                    let (status, body, type) = await answer(h, shell: shell)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: type)
                    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                    headers.add(name: "Connection", value: "close")
                    try await outbound.write(
                        .head(HTTPResponseHead(version: h.version, status: status, headers: headers)))
                    if h.method != .HEAD {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
                    }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }

    static func answer(_ head: HTTPRequestHead, shell: NodeShell) async -> (HTTPResponseStatus, String, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path == "/metrics" else { return (.notFound, "not found; try /metrics\n", "text/plain") }
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "GET /metrics\n", "text/plain")
        }
        let status = await shell.status()
        return (.ok, PrometheusText.render(status), PrometheusText.contentType)
    }
}

/// A metrics server bound at start-up, as a Service for the ServiceGroup.
public struct BoundMetricsService: Service, CustomStringConvertible {
    let server: MetricsServer
    let bound: NIOAsyncChannel<MetricsServer.Connection, Never>

    public var description: String { server.description }

    public init(server: MetricsServer, bound: NIOAsyncChannel<MetricsServer.Connection, Never>) {
        self.server = server
        self.bound = bound
    }

    public func run() async throws {
        try await server.run(bound: bound)
    }
}
