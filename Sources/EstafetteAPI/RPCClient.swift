import NIOCore
import NIOExtras
import NIOPosix

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why a client call failed.
public enum RPCClientError: Error, CustomStringConvertible, Sendable {
    /// No daemon listens at the socket path.
    case daemonNotRunning(path: String, reason: String)
    /// The daemon answered with a JSON-RPC error.
    case remote(RPCErrorObject)
    /// The connection closed before an answer arrived.
    case connectionClosed
    /// The daemon sent something that is not a JSON-RPC response.
    case badResponse(String)

    public var description: String {
        switch self {
        case .daemonNotRunning(let path, let reason):
            return "cannot reach estafetted at \(path) (\(reason)); is the daemon running? "
                + "Start it with `estafetted`, or point to its socket with --socket or ESTAFETTE_SOCKET."
        case .remote(let e):
            return "\(e.message) (error \(e.code))"
        case .connectionClosed:
            return "estafetted closed the connection before answering"
        case .badResponse(let s):
            return "unexpected answer from estafetted: \(s)"
        }
    }
}

/// A line from the daemon: a response to a request, or a notification.
public enum RPCIncoming: Sendable {
    case response(RPCResponse)
    case notification(method: String, params: JSONValue)
}

/// A small JSON-RPC client over the daemon's Unix socket: one JSON object per line.
///
/// Use `withConnection` to scope the connection's lifetime; calls on one connection are sequential.
public struct RPCClient: Sendable {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Opens a connection, runs `body`, and closes the connection.
    public func withConnection<R: Sendable>(
        _ body: (RPCConnection) async throws -> R
    ) async throws -> R {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: 64 * 1024 * 1024))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch)
                    }
                }
        } catch {
            throw RPCClientError.daemonNotRunning(path: socketPath, reason: Self.describe(error))
        }
        return try await channel.executeThenClose { inbound, outbound in
            let conn = RPCConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(conn)
        }
    }

    /// One call on a fresh connection.
    public func call<P: Encodable & Sendable, R: Decodable & Sendable>(
        _ method: String, _ params: P, as: R.Type
    ) async throws -> R {
        try await withConnection { conn in try await conn.call(method, params, as: R.self) }
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ENOENT: return "no socket file"
            case ECONNREFUSED: return "connection refused"
            case EACCES: return "permission denied"
            default: return "\(io)"
            }
        }
        return "\(error)"
    }
}

/// An open connection to the daemon.
public final class RPCConnection: @unchecked Sendable {
    // Used from one task at a time (documented on RPCClient.withConnection).
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextID: Int64 = 1

    init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Sends one raw line (a newline is appended).
    public func sendLine(_ line: String) async throws {
        var buf = ByteBuffer(string: line)
        buf.writeString("\n")
        try await outbound.write(buf)
    }

    /// Reads the next line from the daemon, or nil at end of stream.
    public func readLine() async throws -> String? {
        guard let buf = try await inbound.next() else { return nil }
        return String(buffer: buf)
    }

    /// Reads the next response or notification.
    public func next() async throws -> RPCIncoming? {
        guard let line = try await readLine() else { return nil }
        let data = Data(line.utf8)
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw RPCClientError.badResponse(line)
        }
        if value["id"] != nil, value["method"] == nil {
            do {
                return .response(try value.decode(RPCResponse.self))
            } catch {
                throw RPCClientError.badResponse(line)
            }
        }
        if let method = value["method"]?.stringValue {
            return .notification(method: method, params: value["params"] ?? .null)
        }
        throw RPCClientError.badResponse(line)
    }

    /// Sends a request and waits for its response; notifications arriving meanwhile are passed to `onNotification`.
    public func call<P: Encodable & Sendable, R: Decodable & Sendable>(
        _ method: String, _ params: P, as: R.Type,
        onNotification: (String, JSONValue) -> Void = { _, _ in }
    ) async throws -> R {
        let id = nextID
        nextID += 1
        let request = RPCRequest(id: .int(id), method: method, params: try JSONValue.from(params))
        let data = try JSONEncoder().encode(request)
        try await sendLine(String(decoding: data, as: UTF8.self))
        while let incoming = try await next() {
            switch incoming {
            case .notification(let m, let p):
                onNotification(m, p)
            case .response(let r):
                guard r.id == .int(id) else { continue }
                if let e = r.error { throw RPCClientError.remote(e) }
                do {
                    return try (r.result ?? .null).decode(R.self)
                } catch {
                    throw RPCClientError.badResponse("result of \(method) has an unexpected shape: \(error)")
                }
            }
        }
        throw RPCClientError.connectionClosed
    }
}
