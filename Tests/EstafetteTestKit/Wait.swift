import Foundation

/// A failure of the test kit, with a message that says what went wrong and, for a daemon, its log tail.
public struct KitError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A condition did not hold before its deadline.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double
    /// The condition's last error, when it threw rather than returned false.
    public let lastError: String?

    public var description: String {
        "timed out after \(Int(seconds.rounded())) s waiting for \(what)"
            + (lastError.map { " (last error: \($0))" } ?? "")
    }
}

/// Polls `condition` every `interval` seconds on the calling thread until it holds. An error thrown by the
/// condition ends the wait at once (a daemon that died is not waited for); after `timeout` seconds, `TimedOut`.
public func waitFor(_ what: String, timeout: Double, interval: Double = 0.05, _ condition: () throws -> Bool) throws {
    let start = monoNanos()
    while true {
        if try condition() { return }
        if secondsSince(start) > timeout { throw TimedOut(what: what, seconds: timeout, lastError: nil) }
        sleepSeconds(interval)
    }
}

/// Polls an async `condition` every 50 ms until it holds; never a fixed sleep in place of a condition. An error
/// thrown by the condition counts as "not yet" (a daemon may be between two states) and is reported with the
/// `TimedOut` error if the deadline passes.
public func waitUntil(
    _ what: String, timeout: Double = 20, _ condition: () async throws -> Bool
) async throws {
    let start = monoNanos()
    var lastError: String? = nil
    while true {
        do {
            if try await condition() { return }
            lastError = nil
        } catch {
            lastError = "\(error)"
        }
        if secondsSince(start) > timeout { throw TimedOut(what: what, seconds: timeout, lastError: lastError) }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
}
