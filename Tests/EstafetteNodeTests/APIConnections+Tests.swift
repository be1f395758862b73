import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// The API server on a real Unix socket: how many connections it serves at once, and what the one too many gets.
/// The clients block on their sockets, so they run on threads of their own, never on the server's.
@Suite("API connections")
struct APIConnectionTests {
    @Test("when every place is taken, a new connection takes the place of the one idle longest, which is closed")
    func idleEvicted() async throws {
        try await withScratchDir("api-idle") { dir in
            let node = try TestNode(dir: dir)
            let path = dir + "/api.sock"
            try await node.withAPIServer(path: path, maxConnections: 2) {
                try await onOwnThread("clients") {
                    let first = try LineClient(path: path)
                    let second = try LineClient(path: path)
                    #expect(try first.callObject("node.status")["peers"] as? Int == 0)
                    #expect(try second.callObject("node.status")["peers"] as? Int == 0)
                    let third = try LineClient(path: path)
                    #expect(try third.callObject("node.status")["peers"] as? Int == 0, "the newcomer is served")
                    #expect(try first.readLine(timeout: 10) == nil, "the connection idle longest was closed")
                    let counters = try #require(try second.callObject("node.status")["counters"] as? [String: Any])
                    #expect(counters["api.drop.idle_evicted"] as? Int == 1)
                }
            }
        }
    }

    @Test("when every connection is subscribed, one more gets a busy error and is closed, and it is counted")
    func connectionLimit() async throws {
        try await withScratchDir("api-conn") { dir in
            let node = try TestNode(dir: dir)
            let path = dir + "/api.sock"
            try await node.withAPIServer(path: path, maxConnections: 2) {
                try await onOwnThread("clients") {
                    let watchers = try (0..<2).map { _ in try LineClient(path: path) }
                    for w in watchers { #expect(try w.callObject("subscribe")["subscribed"] as? Bool == true) }
                    let refused = try LineClient(path: path)
                    let line = try #require(try refused.readLine(timeout: 10), "the refused connection got no line")
                    let refusal = try JSONDecoder().decode(RPCResponse.self, from: Data(line))
                    #expect(refusal.error?.code == RPC.ErrorCode.busy)
                    #expect(refusal.error?.message.contains("too many connections") == true)
                    #expect(try refused.readLine(timeout: 10) == nil, "the refused connection is closed")
                    // Once a watcher leaves (which the daemon learns when it reads the end of the stream), a new
                    // connection takes its place.
                    watchers[0].close()
                    var counters: [String: Any] = [:]
                    try waitFor("a place is free again", timeout: 10) {
                        guard let next = try? LineClient(path: path),
                            let status = try? next.callObject("node.status", timeout: 2)
                        else { return false }
                        counters = status["counters"] as? [String: Any] ?? [:]
                        return true
                    }
                    #expect((counters["api.drop.connection_limit"] as? Int ?? 0) >= 1)
                }
            }
        }
    }

    @Test("bad lines are answered and counted by reason")
    func dropsCounted() async throws {
        try await withScratchDir("api-drops") { dir in
            let node = try TestNode(dir: dir)
            let path = dir + "/api.sock"
            try await node.withAPIServer(path: path, maxConnections: 4) {
                try await onOwnThread("client") {
                    let client = try LineClient(path: path)
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
    }
}
