import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Clock

/// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`): never jumps with the wall clock.
@inline(__always)
func monoNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Seconds elapsed since `start` (a `monoNanos()` value).
func secondsSince(_ start: UInt64) -> Double { Double(monoNanos() &- start) / 1e9 }

/// Sleeps until the monotonic clock reads `deadline` (nanoseconds), without drift from earlier sleeps.
func sleepUntil(_ deadline: UInt64) {
    var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}

func sleepSeconds(_ s: Double) {
    guard s > 0 else { return }
    sleepUntil(monoNanos() + UInt64(s * 1e9))
}

/// Wall clock in milliseconds since the Unix epoch (what MeshNode expects as `now`).
func wallMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

// MARK: - Output

/// Prints `name: value unit` lines, flushed at once (stdout may be a pipe to `tee`).
enum Out {
    static func line(_ name: String, _ value: String, _ unit: String = "") {
        write(unit.isEmpty ? "\(name): \(value)" : "\(name): \(value) \(unit)")
    }

    /// One line to stdout, unbuffered (a pipe to `tee` shows it at once; nothing is lost if the run dies).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func value(_ name: String, _ v: Double, _ unit: String, digits: Int = 1) {
        line(name, fmt(v, digits), unit)
    }

    static func int(_ name: String, _ v: Int, _ unit: String = "") {
        line(name, String(v), unit)
    }

    /// A note for the reader (not a figure): `# ...`.
    static func note(_ text: String) {
        write("# \(text)")
    }

    /// Progress on stderr, so stdout holds only figures and notes.
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data("… \(text)\n".utf8))
    }

    static func section(_ title: String) {
        write("")
        write("## \(title)")
    }
}

func fmt(_ v: Double, _ digits: Int = 1) -> String {
    guard v.isFinite else { return "n/a" }
    return String(format: "%.\(digits)f", v)
}

func mib(_ bytes: Int) -> Double { Double(bytes) / (1024 * 1024) }

// MARK: - Statistics

func median(_ xs: [Double]) -> Double {
    percentile(xs.sorted(), 50)
}

/// Nearest-rank percentile of an already sorted array.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

// MARK: - Concurrency helpers

/// A value behind a lock, shared between the benchmark's threads.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()

    init(_ value: T) { self.value = value }

    func with<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var get: T { with { $0 } }
}

/// Runs `body` on a new thread with a name; `join()` waits for it.
final class Worker: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let t = Thread {
            body()
            done.signal()
        }
        t.name = name
        t.stackSize = 1 << 20
        t.start()
    }

    /// Waits for the thread; false when it did not finish within `timeout` seconds.
    @discardableResult
    func join(timeout: Double = .infinity) -> Bool {
        if timeout.isInfinite {
            done.wait()
            return true
        }
        return done.wait(timeout: .now() + timeout) == .success
    }
}

// MARK: - Errors

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every `interval` seconds until it holds; throws a clear error after `timeout` seconds.
func waitFor(_ what: String, timeout: Double, interval: Double = 0.05, _ condition: () throws -> Bool) throws {
    let start = monoNanos()
    while true {
        if try condition() { return }
        if secondsSince(start) > timeout {
            throw BenchError("timed out after \(fmt(timeout, 0)) s waiting for \(what)")
        }
        sleepSeconds(interval)
    }
}

// MARK: - Clean-up of child processes and temp dirs

/// Everything to undo when the benchmark ends, however it ends (normal exit, error, SIGINT/SIGTERM).
/// Daemons are also started with a parent-death signal, so they die even if this process crashes.
enum Cleanup {
    private static let state = Locked<(pids: Set<Int32>, dirs: [String])>(([], []))

    static func track(pid: Int32) { state.with { _ = $0.pids.insert(pid) } }
    static func untrack(pid: Int32) { state.with { _ = $0.pids.remove(pid) } }
    static func track(dir: String) { state.with { $0.dirs.append(dir) } }
    static func untrack(dir: String) { state.with { $0.dirs.removeAll { $0 == dir } } }

    /// Kills every tracked daemon (SIGKILL) and removes every tracked directory.
    static func runAll() {
        let (pids, dirs) = state.with { s in
            defer { s = ([], []) }
            return (s.pids, s.dirs)
        }
        for pid in pids {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
    }

    /// On SIGINT, SIGTERM or SIGHUP: clean up, then exit with 128 + signal.
    ///
    /// The signals are blocked in this thread (and so in every thread started later) and taken by one thread in
    /// `sigwait`, which then runs ordinary code: no work in a signal handler. Call before starting any thread.
    static func installSignalHandlers() {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_DFL)  // a background job starts with SIGINT ignored, and ignored signals never arrive
            sigaddset(&set, sig)
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let waitSet = set
        let t = Thread {
            var s = waitSet
            var sig: Int32 = 0
            guard sigwait(&s, &sig) == 0 else { return }
            FileHandle.standardError.write(
                Data("estafette-bench: signal \(sig): stopping daemons, removing temp dirs\n".utf8))
            runAll()
            _exit(128 + sig)
        }
        t.name = "signals"
        t.start()
    }
}

/// A fresh scratch directory under the system temp dir, removed by `Cleanup`.
func makeScratchDir(_ label: String) throws -> String {
    let base = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
    let path = "\(base)/estafette-bench-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    Cleanup.track(dir: path)
    return path
}

func removeScratchDir(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
    Cleanup.untrack(dir: path)
}
