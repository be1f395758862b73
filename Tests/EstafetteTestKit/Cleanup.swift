import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Everything to undo when the process ends, however it ends: daemons still running and scratch directories.
///
/// Daemons are also started with a parent-death signal (`Child`), so they die even when this process is killed
/// without a chance to clean up; `installSignalHandlers()` additionally removes the directories on SIGINT,
/// SIGTERM and SIGHUP (the benchmark installs it; a test process keeps its runner's signal handling).
public enum Cleanup {
    private static let state = Locked<(pids: Set<Int32>, dirs: [String])>(([], []))

    public static func track(pid: Int32) { state.with { _ = $0.pids.insert(pid) } }
    public static func untrack(pid: Int32) { state.with { _ = $0.pids.remove(pid) } }
    public static func track(dir: String) { state.with { $0.dirs.append(dir) } }
    public static func untrack(dir: String) { state.with { $0.dirs.removeAll { $0 == dir } } }

    /// Kills every tracked daemon (SIGKILL) and removes every tracked directory.
    public static func runAll() {
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
    public static func installSignalHandlers(program: String) {
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
                Data("\(program): signal \(sig): stopping daemons, removing temp dirs\n".utf8))
            runAll()
            _exit(128 + sig)
        }
        t.name = "signals"
        t.start()
    }
}

/// A fresh scratch directory under `$TMPDIR` (or /tmp), tracked by `Cleanup`; remove it with `removeScratchDir`.
public func makeScratchDir(_ label: String) throws -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    let path = "\(base)/estafette-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    Cleanup.track(dir: path)
    return path
}

public func removeScratchDir(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
    Cleanup.untrack(dir: path)
}
