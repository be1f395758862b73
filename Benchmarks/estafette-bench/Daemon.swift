import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where the release binaries are: `estafetted` next to this executable (`.build/release/`).
enum Binaries {
    static let dir: String = {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()

    static func daemon() throws -> String {
        let path = dir + "/estafetted"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError(
                "no estafetted next to the benchmark (\(path)); build it: swift build -c release --product estafetted")
        }
        return path
    }
}

/// Loopback needs the MULTICAST flag for the daemons to join a group on it.
func checkLoopbackMulticast() throws {
    let flags = (try? String(contentsOfFile: "/sys/class/net/lo/flags", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if let f = flags, let v = Int(f.dropFirst(2), radix: 16), v & 0x1000 != 0 { return }
    throw BenchError("loopback has no MULTICAST flag; run (as root): ip link set lo multicast on")
}

/// A random group in 239.192/16 and a random high port, so concurrent runs never hear each other.
func randomGroupAndPort() -> (String, Int) {
    ("239.192.\(Int.random(in: 1...250)).\(Int.random(in: 1...250))", Int.random(in: 20_000...60_000))
}

/// Memory figures of a process, from /proc/PID/status (bytes).
struct Memory {
    var rss = 0
    var hwm = 0
    var anon = 0
    var file = 0
    var threads = 0

    init(pid: Int32) throws {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            throw BenchError("cannot read /proc/\(pid)/status (process gone?)")
        }
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let v = Int(parts[1]) else { continue }
            switch parts[0] {
            case "VmRSS:": rss = v * 1024
            case "VmHWM:": hwm = v * 1024
            case "RssAnon:": anon = v * 1024
            case "RssFile:": file = v * 1024
            case "Threads:": threads = v
            default: break
            }
        }
    }

    func report(_ prefix: String) {
        Out.value("\(prefix).vmrss", mib(rss), "MiB")
        Out.value("\(prefix).vmhwm", mib(hwm), "MiB")
        Out.value("\(prefix).rss_anon", mib(anon), "MiB")
        Out.value("\(prefix).rss_file", mib(file), "MiB")
        Out.int("\(prefix).threads", threads)
    }
}

/// I/O counters of a process, from /proc/PID/io (bytes).
struct IOCounters {
    var writeBytes = 0  // reached the block layer
    var wchar = 0  // passed to write(2) and friends
    var syscw = 0

    init(pid: Int32) throws {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else {
            throw BenchError("cannot read /proc/\(pid)/io (needs root or the same user)")
        }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":")
            guard parts.count == 2, let v = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { continue }
            switch parts[0] {
            case "write_bytes": writeBytes = v
            case "wchar": wchar = v
            case "syscw": syscw = v
            default: break
            }
        }
    }
}

/// CPU time (user + system) of a process so far, in seconds, from /proc/PID/stat.
func cpuSeconds(pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return .nan }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state(0) ... utime(11) stime(12), in clock ticks.
    guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return .nan }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A child process started with `posix_spawn` from the calling thread.
///
/// Not Foundation's `Process`: the daemons are started through `setpriv --pdeathsig KILL`, and a parent-death
/// signal fires when the *thread* that spawned the child ends. Spawning from the main thread (which lives as long
/// as the benchmark) is the only way to be sure it fires when, and only when, the benchmark dies.
final class Child: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var status: Int32? = nil

    /// Starts `path` with `arguments`; stdout and stderr append to `logPath`, stdin is /dev/null. The child gets an
    /// empty signal mask and default signal handlers (this process blocks SIGINT/SIGTERM/SIGHUP for `sigwait`).
    init(path: String, arguments: [String], logPath: String) throws {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] =
            ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &fa, &attr, argv, envp)
        guard rc == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Collects the exit status if the child has ended (non-blocking).
    private func reap(blocking: Bool) {
        lock.lock()
        defer { lock.unlock() }
        guard status == nil else { return }
        var st: Int32 = 0
        let r = waitpid(pid, &st, blocking ? 0 : WNOHANG)
        if r == pid { status = st }
    }

    var isRunning: Bool {
        reap(blocking: false)
        return lock.withLock { status == nil }
    }

    func waitUntilExit() { reap(blocking: true) }

    /// The exit code, or 128 + signal when killed by a signal (like a shell); nil while running.
    var exitCode: Int32? {
        lock.withLock {
            guard let st = status else { return nil }
            let sig = st & 0x7F
            return sig == 0 ? (st >> 8) & 0xFF : 128 + sig
        }
    }
}

/// One release `estafetted` with its own config, data dir and socket, on loopback multicast.
final class Daemon: @unchecked Sendable {
    let name: String
    let dir: String
    let socket: String
    let dataDir: String
    let configPath: String
    let group: String
    let port: Int
    /// The `estafetted` binary this daemon runs (nil: the one next to the benchmark).
    let binary: String?
    private var process: Child?
    var logPath: String { dir + "/daemon.log" }
    var pid: Int32 { process?.pid ?? -1 }

    init(name: String, root: String, group: String, port: Int, logLevel: String = "info", binary: String? = nil)
        throws
    {
        self.name = name
        self.binary = binary
        self.dir = root + "/" + name
        self.socket = dir + "/api.sock"
        self.dataDir = dir + "/data"
        self.configPath = dir + "/estafette.toml"
        self.group = group
        self.port = port
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // beacon_interval_ms is left at its default on purpose.
        let config = """
            data_dir = "\(dataDir)"
            log_level = "\(logLevel)"

            [api]
            socket = "\(socket)"

            [lan]
            group = "\(group)"
            port = \(port)
            interfaces = ["lo"]
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// Starts the daemon and waits until it answers `node.status`. Returns the seconds that took.
    /// Must be called from the main thread: the parent-death signal is tied to the thread that spawns.
    @discardableResult
    func start(timeout: Double = 60) throws -> Double {
        precondition(process == nil, "\(name) already started")
        let daemon = try binary ?? Binaries.daemon()
        // setpriv --pdeathsig: the daemon is killed if the benchmark dies without cleaning up.
        let setpriv = "/usr/bin/setpriv"
        let useSetpriv = FileManager.default.isExecutableFile(atPath: setpriv)
        let t0 = monoNanos()
        let p = try Child(
            path: useSetpriv ? setpriv : daemon,
            arguments: (useSetpriv ? ["--pdeathsig", "KILL", "--", daemon] : []) + ["--config", configPath],
            logPath: logPath)
        process = p
        Cleanup.track(pid: p.pid)
        do {
            try waitFor("\(name) to answer on \(socket)", timeout: timeout) {
                guard p.isRunning else {
                    throw BenchError("\(name) exited with status \(p.exitCode ?? -1) at start-up")
                }
                guard let c = try? LineClient(path: socket) else { return false }
                return (try? c.callObject("node.status", timeout: 5)) != nil
            }
        } catch {
            throw BenchError("\(error); log tail:\n\(logTail())")
        }
        return secondsSince(t0)
    }

    /// SIGTERM and a clean exit; SIGKILL after `timeout` seconds. Returns the exit code (128 + signal if killed).
    @discardableResult
    func stop(timeout: Double = 20) -> Int32 {
        guard let p = process else { return 0 }
        process = nil
        defer { Cleanup.untrack(pid: p.pid) }
        if p.isRunning { kill(p.pid, SIGTERM) }
        let start = monoNanos()
        while p.isRunning, secondsSince(start) < timeout { sleepSeconds(0.02) }
        if p.isRunning {
            Out.note("\(name) did not stop within \(fmt(timeout, 0)) s of SIGTERM; killed")
            kill(p.pid, SIGKILL)
            p.waitUntilExit()
        }
        return p.exitCode ?? -1
    }

    var isRunning: Bool { process?.isRunning ?? false }

    func logTail(_ n: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(n).joined(separator: "\n")
    }

    // MARK: - API helpers (each on a fresh connection)

    func connect() throws -> LineClient { try LineClient(path: socket) }

    func call(_ method: String, _ params: [String: Any] = [:], timeout: Double = 30) throws -> [String: Any] {
        try ensureRunning()
        return try connect().callObject(method, params, timeout: timeout)
    }

    func status() throws -> Status { try Status(call("node.status")) }

    func id() throws -> String {
        guard let id = try call("identity.show")["id"] as? String else { throw BenchError("identity.show: no id") }
        return id
    }

    func memory() throws -> Memory {
        try ensureRunning()
        return try Memory(pid: pid)
    }

    func io() throws -> IOCounters {
        try ensureRunning()
        return try IOCounters(pid: pid)
    }

    /// Throws, with the exit status and the log tail, when the daemon has died.
    func ensureRunning() throws {
        guard let p = process else { throw BenchError("\(name) is not started") }
        guard p.isRunning else {
            throw BenchError("\(name) died (exit code \(p.exitCode ?? -1)); log tail:\n\(logTail(40))")
        }
    }

    /// Sizes of the SQLite files (main, -wal, -shm), in bytes.
    func databaseFiles() -> [(String, Int)] {
        ["estafette.sqlite", "estafette.sqlite-wal", "estafette.sqlite-shm"].map { f in
            let attrs = try? FileManager.default.attributesOfItem(atPath: dataDir + "/" + f)
            return (f, (attrs?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}

/// The parts of `node.status` the benchmark reads.
struct Status {
    let envelopes: Int
    let peers: Int
    let counters: [String: Int]

    init(_ obj: [String: Any]) throws {
        guard let e = (obj["envelopes"] as? NSNumber)?.intValue, let p = (obj["peers"] as? NSNumber)?.intValue else {
            throw BenchError("node.status has an unexpected shape: \(obj)")
        }
        envelopes = e
        peers = p
        var c: [String: Int] = [:]
        for (k, v) in (obj["counters"] as? [String: Any]) ?? [:] {
            if let n = (v as? NSNumber)?.intValue { c[k] = n }
        }
        counters = c
    }

    subscript(counter: String) -> Int { counters[counter] ?? 0 }

    /// Every `drop.*` counter that is not zero, as `name=value` text.
    var drops: String {
        let d = counters.filter { $0.key.hasPrefix("drop.") && $0.value != 0 }.sorted { $0.key < $1.key }
        return d.isEmpty ? "none" : d.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
