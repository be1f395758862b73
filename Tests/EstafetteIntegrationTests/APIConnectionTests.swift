import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// The API server's connection places (`api.max_connections`), on a real daemon: which connection gets a place,
/// which is closed to make room, which is refused, and the counters that say so. The clients block on their
/// sockets, so they run on a thread of their own.
@Suite(
    "API connection places",
    .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
    .timeLimit(.minutes(5)))
struct APIConnectionTests {
    /// Runs `body` against a daemon serving at most two connections.
    static func withDaemon(_ label: String, _ body: @escaping @Sendable (Daemon) throws -> Void) async throws {
        let root = try makeScratchDir(label)
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let d = try Daemon.forTest("d", root: root, group: group, port: port)
        let config = try String(contentsOfFile: d.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "[api]\n", with: "[api]\nmax_connections = 2\n")
            .write(toFile: d.configPath, atomically: true, encoding: .utf8)
        try await withDaemons([d]) {
            try await d.start()
            try await onOwnThread("clients") { try body(d) }
            await d.stopCleanly()
        }
    }

    @Test("when every place is taken, a new connection takes the place of the one idle longest, which is closed")
    func idleEvicted() async throws {
        try await Self.withDaemon("api-idle") { d in
            let first = try d.connect()
            let second = try d.connect()
            #expect(try first.callObject("node.status")["peers"] as? Int == 0)
            #expect(try second.callObject("node.status")["peers"] as? Int == 0)
            let third = try d.connect()
            #expect(try third.callObject("node.status")["peers"] as? Int == 0, "the newcomer is served")
            #expect(try first.readLine(timeout: 10) == nil, "the connection idle longest was closed")
            let counters = try #require(try second.callObject("node.status")["counters"] as? [String: Any])
            #expect(counters["api.drop.idle_evicted"] as? Int == 1)
        }
    }

    @Test("when every connection is subscribed, one more gets a busy error and is closed, and it is counted")
    func connectionLimit() async throws {
        try await Self.withDaemon("api-conn") { d in
            let watchers = try (0..<2).map { _ in try d.connect() }
            for w in watchers { #expect(try w.callObject("subscribe")["subscribed"] as? Bool == true) }
            let refused = try d.connect()
            let line = try #require(try refused.readLine(timeout: 10), "the refused connection got no line")
            let refusal = try JSONDecoder().decode(RPCResponse.self, from: Data(line))
            #expect(refusal.error?.code == RPC.ErrorCode.busy)
            #expect(refusal.error?.message.contains("too many connections") == true)
            #expect(try refused.readLine(timeout: 10) == nil, "the refused connection is closed")
            // Once a watcher leaves (the daemon reads the end of its stream), a new connection takes its place.
            watchers[0].close()
            var counters: [String: Any] = [:]
            try waitFor("a place is free again", timeout: 10) {
                guard let next = try? d.connect(), let status = try? next.callObject("node.status", timeout: 2)
                else { return false }
                counters = status["counters"] as? [String: Any] ?? [:]
                return true
            }
            #expect((counters["api.drop.connection_limit"] as? Int ?? 0) >= 1)
        }
    }

    @Test("bad lines are answered and counted by reason")
    func dropsCounted() async throws {
        try await Self.withDaemon("api-drops") { d in
            let client = try d.connect()
            for line in [
                "not json", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
                #"{"jsonrpc":"1.0","id":1,"method":"node.status"}"#,
            ] {
                try client.writeLine(line)
                #expect(try client.readLine(timeout: 10) != nil)
            }
            let counters = try #require(try client.callObject("node.status")["counters"] as? [String: Any])
            #expect(counters["api.drop.parse_error"] as? Int == 2)
            #expect(counters["api.drop.invalid_request"] as? Int == 1)
        }
    }
}
