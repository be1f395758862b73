import EstafetteAPI
import Foundation
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Where the built executables are: next to the test bundle.
enum Build {
    static let productsDir: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // On Linux the test runner is `<products>/EstafettePackageTests.xctest`.
        while !FileManager.default.fileExists(atPath: dir + "/estafetted"), dir != "/" {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }()

    static var daemon: String { productsDir + "/estafetted" }
    static var cli: String { productsDir + "/estafette" }
}

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for: \(what)" }
}

/// Polls `condition` until it holds or the deadline passes (no fixed sleeps in assertions).
func waitUntil(
    _ what: String, timeout: Double = 20, _ condition: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    if try await condition() { return }
    throw TestTimeout(what: what)
}

/// One `estafetted` process with its own data dir, socket and config.
final class Daemon: @unchecked Sendable {
    let name: String
    let dir: String
    let socket: String
    let configPath: String
    /// Command prefix, e.g. `ip netns exec h1` (empty: run directly).
    let prefix: [String]
    private var process: Process?
    var logPath: String { dir + "/daemon.log" }

    init(name: String, root: String, group: String, port: Int, interface: String, prefix: [String] = []) throws {
        self.name = name
        self.dir = root + "/" + name
        self.socket = dir + "/api.sock"
        self.configPath = dir + "/estafette.toml"
        self.prefix = prefix
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = """
            data_dir = "\(dir)/data"
            log_level = "debug"

            [api]
            socket = "\(socket)"

            [lan]
            group = "\(group)"
            port = \(port)
            interfaces = ["\(interface)"]
            beacon_interval_ms = 300
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var client: RPCClient { RPCClient(socketPath: socket) }

    func start() async throws {
        let p = Process()
        if prefix.isEmpty {
            p.executableURL = URL(fileURLWithPath: Build.daemon)
            p.arguments = ["--config", configPath]
        } else {
            p.executableURL = URL(fileURLWithPath: prefix[0])
            p.arguments = Array(prefix.dropFirst()) + [Build.daemon, "--config", configPath]
        }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = log
        try p.run()
        process = p
        let client = self.client
        do {
            try await waitUntil("\(name) answers on its socket", timeout: 30) {
                guard p.isRunning else { throw DaemonDied(name: self.name, log: self.logTail()) }
                _ = try await client.call(RPC.Method.nodeStatus, Empty(), as: NodeStatus.self)
                return true
            }
        } catch {
            throw DaemonDied(name: name, log: logTail() + "\n(\(error))")
        }
    }

    /// SIGTERM, then wait for a clean exit.
    func stop() async throws {
        guard let p = process else { return }
        process = nil
        if p.isRunning { p.terminate() }
        let deadline = Date().addingTimeInterval(15)
        while p.isRunning, Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            Issue.record("\(name) did not stop within 15 s of SIGTERM")
        }
        #expect(p.terminationStatus == 0, "\(name) exited with status \(p.terminationStatus): \(logTail())")
    }

    func kill9() {
        guard let p = process else { return }
        process = nil
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    func logTail(_ n: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(n).joined(separator: "\n")
    }

    // MARK: - API helpers

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

struct DaemonDied: Error, CustomStringConvertible {
    let name: String
    let log: String
    var description: String { "daemon \(name) failed to start; log tail:\n\(log)" }
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

/// A scratch directory removed at the end.
func makeScratchDir(_ label: String) throws -> String {
    let path = NSTemporaryDirectory() + "estafette-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A random group in 239.192/14 and a random high port, so concurrent runs never hear each other.
func randomGroupAndPort() -> (String, Int) {
    ("239.192.\(Int.random(in: 1...250)).\(Int.random(in: 1...250))", Int.random(in: 20_000...60_000))
}

enum Privileges {
    static var isRoot: Bool { geteuid() == 0 }
}
