import EstafetteAPI
import EstafetteTestKit
import Foundation
import NIOConcurrencyHelpers
import Testing

/// Integration-test conveniences over EstafetteTestKit's `Daemon`: a debug log, fast beacons, and typed API calls
/// through the product's own `RPCClient`.
extension Daemon {
    /// A daemon for a test: debug log, 300 ms beacons, on `interface` (inside a network namespace with `prefix`).
    static func forTest(
        _ name: String, root: String, group: String, port: Int, interface: String = "lo", prefix: [String] = []
    ) throws -> Daemon {
        try Daemon(
            name: name, root: root, group: group, port: port, interface: interface, logLevel: "debug",
            beaconIntervalMillis: 300, prefix: prefix)
    }

    /// Stops the daemon and records an issue unless it exits cleanly (status 0) on SIGTERM within 15 s.
    func stopCleanly() async {
        let status = await stop(timeout: 15)
        #expect(status == 0, "\(name) exited with status \(status) (137: killed after 15 s): \(logTail())")
    }

    var client: RPCClient { RPCClient(socketPath: socket) }

    func call<P: Encodable & Sendable, R: Decodable & Sendable>(_ m: String, _ p: P, as: R.Type) async throws -> R {
        try await client.call(m, p, as: R.self)
    }

    func id() async throws -> String {
        try await call(RPC.Method.identityShow, Empty(), as: IdentityInfo.self).id
    }

    func status() async throws -> NodeStatus {
        try await call(RPC.Method.nodeStatus, Empty(), as: NodeStatus.self)
    }

    func inbox() async throws -> [InboxItem] {
        try await call(RPC.Method.inboxList, InboxListParams(limit: 1000), as: InboxList.self).messages
    }
}

/// Collects `message.received` notifications from a `subscribe` connection.
final class Watcher: Sendable {
    private let items = NIOLockedValueBox<[InboxItem]>([])
    private let subscribed = NIOLockedValueBox(false)
    private let task: NIOLockedValueBox<Task<Void, Never>?> = .init(nil)

    init(_ daemon: Daemon) async throws {
        let client = daemon.client
        let items = self.items
        let subscribed = self.subscribed
        task.withLockedValue {
            $0 = Task {
                try? await client.withConnection { conn in
                    _ = try await conn.call(RPC.Method.subscribe, Empty(), as: Subscribed.self)
                    subscribed.withLockedValue { $0 = true }
                    while !Task.isCancelled, let incoming = try await conn.next() {
                        if case .notification(let m, let p) = incoming, m == RPC.Method.messageReceived,
                            let item = try? p.decode(InboxItem.self)
                        {
                            items.withLockedValue { $0.append(item) }
                        }
                    }
                }
            }
        }
        try await waitUntil("subscription to \(daemon.name)") { subscribed.withLockedValue { $0 } }
    }

    var received: [InboxItem] { items.withLockedValue { $0 } }

    func cancel() { task.withLockedValue { $0?.cancel() } }
}

/// Runs `body` with the daemons; when it fails, prints their log tails and kills them before rethrowing.
func withDaemons(_ daemons: [Daemon], _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        for d in daemons { print("---- \(d.name) log ----\n\(d.logTail(40))") }
        for d in daemons { d.kill9() }
        throw error
    }
}
