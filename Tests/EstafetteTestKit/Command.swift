import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished command printed (stdout and stderr together) and its exit code.
public struct CommandResult: Sendable {
    public let exitCode: Int32
    public let output: String
}

/// Runs `path` with `arguments` to its end, or kills it after `timeout` seconds and throws.
///
/// Never Foundation's `Process`: its `waitUntilExit` waited forever in CI for an `ip` child that had already
/// ended (a hung suite and a lost submission), and a pipe read to EOF waits as long as any daemon spawned at the
/// same moment holds the write end. Here the child is spawned with `posix_spawn` (`Child`), its output goes to a
/// file, and its exit is polled with `waitpid(WNOHANG)` under a deadline.
@discardableResult
public func runCommand(_ path: String, _ arguments: [String], timeout: Double = 60) throws -> CommandResult {
    let log = NSTemporaryDirectory() + "estafette-cmd-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).out"
    defer { unlink(log) }
    let child = try Child(path: path, arguments: arguments, logPath: log)
    let start = monoNanos()
    while child.isRunning {
        if secondsSince(start) > timeout {
            kill(child.pid, SIGKILL)
            child.waitUntilExit()
            throw KitError("\(path) \(arguments.joined(separator: " ")) did not end within \(Int(timeout)) s; killed")
        }
        sleepSeconds(0.005)
    }
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return CommandResult(exitCode: child.exitCode ?? -1, output: output)
}

/// `runCommand`, throwing with the command's output unless it exits 0.
@discardableResult
public func runChecked(_ path: String, _ arguments: [String], timeout: Double = 60) throws -> String {
    let r = try runCommand(path, arguments, timeout: timeout)
    guard r.exitCode == 0 else {
        throw KitError(
            "\(path) \(arguments.joined(separator: " ")) failed with status \(r.exitCode): "
                + r.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return r.output
}
