import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where the built executables are: the nearest directory, from this program's own up, that holds `estafetted`
/// (`.build/release/` for the benchmark, `.build/debug/` for the test runner).
public enum Binaries {
    public static let dir: String? = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        while dir != "/", !dir.isEmpty {
            if FileManager.default.isExecutableFile(atPath: dir + "/estafetted") { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return nil
    }()

    public static func daemon() throws -> String {
        guard let dir else {
            throw KitError(
                "no estafetted next to \(CommandLine.arguments[0]) or above it; build it: "
                    + "swift build --product estafetted (add -c release for the benchmark)")
        }
        return dir + "/estafetted"
    }
}

/// One `estafetted` process with its own directory, config, data dir, socket and log.
///
/// `start()` returns once the daemon answers `node.status` (or throws with the log tail), `stop()` sends SIGTERM
/// and SIGKILLs after a deadline. Daemons run under `setpriv --pdeathsig KILL` when it exists, so they die with
/// this process, and are tracked by `Cleanup`. The blocking calls have async twins that run on a thread of their
/// own; a `Daemon` is used by one caller at a time.
public final class Daemon: @unchecked Sendable {
    public let name: String
    public let dir: String
    public let socket: String
    public let dataDir: String
    public let configPath: String
    public let group: String
    public let port: Int
    /// Command prefix, e.g. `ip netns exec h1` (empty: run directly).
    public let prefix: [String]
    /// The `estafetted` binary this daemon runs (nil: the one next to the test or benchmark binary).
    public let binary: String?
    /// Arguments added after `--config` at the next start (relay flags, …); may change between restarts.
    public var extraArguments: [String] {
        get { extra.get }
        set { extra.with { $0 = newValue } }
    }
    private let extra = Locked<[String]>([])
    private let process = Locked<Child?>(nil)
    public var logPath: String { dir + "/daemon.log" }
    public var pid: Int32 { process.get?.pid ?? -1 }

    /// Writes `<root>/<name>/estafette.toml`: LAN `group`:`port` on `interface`; `beaconIntervalMillis` nil
    /// keeps the daemon's default.
    public init(
        name: String, root: String, group: String, port: Int, interface: String = "lo", logLevel: String = "info",
        beaconIntervalMillis: Int? = nil, prefix: [String] = [], binary: String? = nil
    ) throws {
        self.name = name
        self.binary = binary
        self.dir = root + "/" + name
        self.socket = dir + "/api.sock"
        self.dataDir = dir + "/data"
        self.configPath = dir + "/estafette.toml"
        self.group = group
        self.port = port
        self.prefix = prefix
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var config = """
            data_dir = "\(dataDir)"
            log_level = "\(logLevel)"

            [api]
            socket = "\(socket)"

            [lan]
            group = "\(group)"
            port = \(port)
            interfaces = ["\(interface)"]

            """
        if let b = beaconIntervalMillis { config += "beacon_interval_ms = \(b)\n" }
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon and waits until it answers `node.status`. Returns the seconds that took.
    @discardableResult
    public func start(timeout: Double = 60) throws -> Double {
        precondition(process.get == nil, "\(name) already started")
        let t0 = monoNanos()
        let p = try spawnDaemon(
            ["--config", configPath] + extraArguments, prefix: prefix, logPath: logPath, binary: binary)
        process.with { $0 = p }
        do {
            try waitFor("\(name) to answer on \(socket)", timeout: timeout) {
                guard p.isRunning else {
                    throw KitError("\(name) exited with status \(p.exitCode ?? -1) at start-up")
                }
                guard let c = try? LineClient(path: socket) else { return false }
                return (try? c.callObject("node.status", timeout: 5)) != nil
            }
        } catch {
            kill9()
            throw KitError("\(error); log tail of \(name):\n\(logTail(40))")
        }
        return secondsSince(t0)
    }

    @discardableResult
    public func start(timeout: Double = 60) async throws -> Double {
        try await onOwnThread("start \(name)") { try self.start(timeout: timeout) }
    }

    /// SIGTERM and a clean exit; SIGKILL after `timeout` seconds. Returns the exit code: 0 for a clean stop,
    /// 137 (128 + SIGKILL) when it had to be killed; 0 when it was not running.
    @discardableResult
    public func stop(timeout: Double = 20) -> Int32 {
        guard
            let p = process.with({ p in
                defer { p = nil }
                return p
            })
        else { return 0 }
        defer { Cleanup.untrack(pid: p.pid) }
        if p.isRunning { kill(p.pid, SIGTERM) }
        let start = monoNanos()
        while p.isRunning, secondsSince(start) < timeout { sleepSeconds(0.02) }
        if p.isRunning {
            kill(p.pid, SIGKILL)
            p.waitUntilExit()
        }
        return p.exitCode ?? -1
    }

    @discardableResult
    public func stop(timeout: Double = 20) async -> Int32 {
        (try? await onOwnThread("stop \(name)") { self.stop(timeout: timeout) }) ?? -1
    }

    /// SIGKILL, no questions asked (after a failure).
    public func kill9() {
        guard
            let p = process.with({ p in
                defer { p = nil }
                return p
            })
        else { return }
        kill(p.pid, SIGKILL)
        p.waitUntilExit()
        Cleanup.untrack(pid: p.pid)
    }

    public var isRunning: Bool { process.get?.isRunning ?? false }

    public func logTail(_ n: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(n).joined(separator: "\n")
    }

    /// Throws, with the exit status and the log tail, when the daemon has died.
    public func ensureRunning() throws {
        guard let p = process.get else { throw KitError("\(name) is not started") }
        guard p.isRunning else {
            throw KitError("\(name) died (exit code \(p.exitCode ?? -1)); log tail:\n\(logTail(40))")
        }
    }

    // MARK: - API over the line client (blocking; each call on a fresh connection)

    public func connect() throws -> LineClient { try LineClient(path: socket) }

    public func call(_ method: String, _ params: [String: Any] = [:], timeout: Double = 30) throws -> [String: Any] {
        try ensureRunning()
        return try connect().callObject(method, params, timeout: timeout)
    }
}

/// Starts `estafetted` with `arguments` (under `setpriv --pdeathsig KILL` when available, after `prefix`),
/// output appended to `logPath`, and tracks it in `Cleanup`.
func spawnDaemon(_ arguments: [String], prefix: [String], logPath: String, binary: String? = nil) throws -> Child {
    let daemon = try binary ?? Binaries.daemon()
    let setpriv = "/usr/bin/setpriv"
    let guarded =
        FileManager.default.isExecutableFile(atPath: setpriv) ? [setpriv, "--pdeathsig", "KILL", "--"] : []
    let command = guarded + prefix + [daemon] + arguments
    let p = try Child(path: command[0], arguments: Array(command.dropFirst()), logPath: logPath)
    Cleanup.track(pid: p.pid)
    return p
}

/// Runs `estafetted` with `arguments` until it exits by itself (it is killed after `timeout` seconds). Returns
/// its exit status and everything it printed (stdout and stderr).
public func runDaemonToExit(_ arguments: [String], timeout: Double = 30) async throws -> (status: Int32, output: String)
{
    try await onOwnThread("estafetted to exit") {
        let dir = try makeScratchDir("run")
        defer { removeScratchDir(dir) }
        let log = dir + "/output"
        let p = try spawnDaemon(arguments, prefix: [], logPath: log)
        defer { Cleanup.untrack(pid: p.pid) }
        let start = monoNanos()
        while p.isRunning, secondsSince(start) < timeout { sleepSeconds(0.02) }
        if p.isRunning {
            kill(p.pid, SIGKILL)
            p.waitUntilExit()
            throw KitError("estafetted \(arguments.joined(separator: " ")) did not exit within \(Int(timeout)) s")
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (p.exitCode ?? -1, output)
    }
}
