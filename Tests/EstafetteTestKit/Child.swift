import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, its output appended to a log file.
///
/// Not Foundation's `Process`: daemons are started through `setpriv --pdeathsig KILL`, and a parent-death signal
/// fires when the *thread* that spawned the child ends, not the process. Every child is therefore spawned from
/// one thread that lives as long as the process (`Spawner`), whichever thread or task asks: the signal fires when,
/// and only when, the benchmark or test process dies.
public final class Child: @unchecked Sendable {
    public let pid: pid_t
    private let status = Locked<Int32?>(nil)

    /// Starts `path` with `arguments`; stdout and stderr append to `logPath`, stdin is /dev/null. The child gets an
    /// empty signal mask and default signal handlers (the benchmark blocks SIGINT/SIGTERM/SIGHUP for `sigwait`).
    public init(path: String, arguments: [String], logPath: String) throws {
        pid = try Spawner.spawn(path: path, arguments: arguments, logPath: logPath)
    }

    /// Collects the exit status if the child has ended (the lock is not held while `waitpid` blocks).
    private func reap(blocking: Bool) {
        guard status.get == nil else { return }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, blocking ? 0 : WNOHANG)
        if r == pid {
            status.with { $0 = raw }
        } else if r < 0, errno == ECHILD {
            status.with { if $0 == nil { $0 = -1 } }  // reaped by another waiter: gone
        }
    }

    public var isRunning: Bool {
        reap(blocking: false)
        return status.get == nil
    }

    public func waitUntilExit() { reap(blocking: true) }

    /// The exit code, or 128 + signal when killed by a signal (like a shell); nil while running, -1 if unknown.
    public var exitCode: Int32? {
        guard let st = status.get else { return nil }
        guard st >= 0 else { return -1 }
        let sig = st & 0x7F
        return sig == 0 ? (st >> 8) & 0xFF : 128 + sig
    }
}

/// `posix_spawn_file_actions_addclosefrom_np`, when this glibc has it (not in Swift's Glibc module).
private let closefromAction: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    // RTLD_DEFAULT is ((void *) 0) on glibc.
    guard let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(
        sym, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// The one long-lived thread every child is spawned from (see `Child`).
enum Spawner {
    private static let jobs = Locked<[@Sendable () -> Void]>([])
    private static let wake = DispatchSemaphore(value: 0)
    private static let thread: Bool = {
        let t = Thread {
            while true {
                wake.wait()
                for job in jobs.with({ j in
                    defer { j.removeAll() }
                    return j
                }) {
                    job()
                }
            }
        }
        t.name = "spawner"
        t.stackSize = 1 << 20
        t.start()
        return true
    }()

    static func spawn(path: String, arguments: [String], logPath: String) throws -> pid_t {
        _ = thread
        let result = Locked<Result<pid_t, KitError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        jobs.with {
            $0.append {
                result.with { $0 = spawnHere(path: path, arguments: arguments, logPath: logPath) }
                done.signal()
            }
        }
        wake.signal()
        done.wait()
        return try result.get!.get()
    }

    private static func spawnHere(path: String, arguments: [String], logPath: String) -> Result<pid_t, KitError> {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        // No other descriptor of the test process reaches the child (a pipe's write end held by a daemon would
        // keep another test's read waiting): glibc's closefrom action, looked up at run time (glibc 2.34+).
        if let addClosefrom = closefromAction { _ = addClosefrom(&fa, 3) }
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
        guard rc == 0 else { return .failure(KitError("cannot start \(path): \(String(cString: strerror(rc)))")) }
        return .success(pid)
    }
}
