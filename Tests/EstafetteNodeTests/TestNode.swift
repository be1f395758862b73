import EstafetteAPI
import EstafetteCore
import Foundation
import Logging
import NIOCore
import Testing

@testable import EstafetteNode

/// One node shell in process, on a SQLite file in a scratch directory, with no LAN transport attached and no
/// socket: JSON-RPC request lines in, answer lines out, exactly as the API server hands each line it reads to
/// the dispatcher.
///
/// This is the one place the node tests build the shell and reach into it; when the shell's types move or are
/// renamed, this is the file to follow.
final class TestNode: Sendable {
    let identity: SigningKeyPair
    let store: Store
    let shell: NodeShell
    let relay: RelayContext
    private let dispatcher: Dispatcher

    init(dir: String, identity: SigningKeyPair = Fixture.alice, config: NodeConfig? = nil) throws {
        self.identity = identity
        store = try Store(path: dir + "/estafette.sqlite")
        let config = config ?? NodeConfig(dataDir: dir, socketPath: dir + "/api.sock")
        let logger = Logger(label: "estafette.test") { _ in SwiftLogNoOpLogHandler() }
        shell = try NodeShell(identity: identity, meshKey: .publicDefault, store: store, config: config, logger: logger)
        relay = try RelayContext(
            linkKey: try LinkKeyFile.loadOrCreate(path: dir + "/link.key").keys, config: config, store: store)
        dispatcher = Dispatcher(shell: shell, relay: relay)
    }

    /// This node's ID, as the API shows it.
    var id: String { PublicID(key: identity.publicKey).description }

    /// What the server does with one request line.
    enum Outcome: Sendable {
        /// Writes nothing (a blank line, a notification).
        case silent
        /// Writes this line at once; `subscribes` when the connection now gets `message.received` notifications.
        case now(String, subscribes: Bool)
        /// Writes the line `finish` returns once the group commit holding the request's write is done.
        case afterCommit(finish: @Sendable () async -> String?)
    }

    func handle(_ line: String) async -> Outcome { await handle(bytes: Array(line.utf8)) }

    func handle(bytes: [UInt8]) async -> Outcome {
        switch await respond(to: ByteBuffer(bytes: bytes), dispatcher: dispatcher) {
        case .none:
            return .silent
        case .now(let buffer, let subscribes):
            return .now(Self.text(buffer), subscribes: subscribes)
        case .later(let answer):
            return .afterCommit { await answer().map(Self.text) }
        }
    }

    /// The answer line to `line` (without its newline), after the group commit when the answer waits for one;
    /// nil when no answer is due.
    func answer(_ line: String) async -> String? { await answer(bytes: Array(line.utf8)) }

    func answer(bytes: [UInt8]) async -> String? {
        switch await handle(bytes: bytes) {
        case .silent: return nil
        case .now(let text, _): return text
        case .afterCommit(let finish):
            await commit()
            return await finish()
        }
    }

    /// Runs one group commit of the queued writes, as the daemon's flusher does whenever writes are queued.
    func commit() async { await shell.flushOnce() }

    /// `message.received` items, as a subscribed connection gets them.
    func subscribe() async -> AsyncStream<InboxItem> {
        let queue = await shell.hub.subscribe().queue
        return AsyncStream { continuation in
            let reader = Task {
                while let items = await queue.next() {
                    for item in items { continuation.yield(item) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in reader.cancel() }
        }
    }

    private static func text(_ buffer: ByteBuffer) -> String {
        var s = String(buffer: buffer)
        if s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    // MARK: - Typed requests

    static func line(_ method: String, _ params: some Encodable, id: Int = 1) throws -> String {
        let request = RPCRequest(id: .int(Int64(id)), method: method, params: try JSONValue.from(params))
        return String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
    }

    /// The decoded response to a request for `method`.
    func response(_ method: String, _ params: some Encodable = Empty(), id: Int = 1) async throws -> RPCResponse {
        let answer = try #require(await answer(Self.line(method, params, id: id)), "no answer to \(method)")
        return try JSONDecoder().decode(RPCResponse.self, from: Data(answer.utf8))
    }

    /// The result of a request that must succeed.
    func call<R: Decodable>(_ method: String, _ params: some Encodable = Empty(), as: R.Type) async throws -> R {
        let r = try await response(method, params)
        let result = try #require(r.result, "\(method) failed: \(String(describing: r.error))")
        return try result.decode(R.self)
    }

    /// The error of a request that must fail.
    func error(_ method: String, _ params: some Encodable = Empty()) async throws -> RPCErrorObject {
        let r = try await response(method, params)
        return try #require(r.error, "\(method) succeeded: \(String(describing: r.result))")
    }

    func inbox(_ params: InboxListParams = InboxListParams()) async throws -> [InboxItem] {
        try await call(RPC.Method.inboxList, params, as: InboxList.self).messages
    }
}
