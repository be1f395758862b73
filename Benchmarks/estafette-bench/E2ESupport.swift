import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads `message.received` notifications from a `subscribe` connection on its own thread and timestamps each
/// one (monotonic clock) the moment its line is read.
final class NotificationCollector: @unchecked Sendable {
    private let client: LineClient
    private let seen = Locked<[String: UInt64]>([:])
    private let stopFlag = Locked(false)
    private let failure = Locked<String?>(nil)
    private var worker: Worker?

    init(daemon: Daemon) throws {
        client = try daemon.connect()
        guard (try client.callObject("subscribe"))["subscribed"] as? Bool == true else {
            throw BenchError("subscribe on \(daemon.name) did not answer subscribed = true")
        }
        let client = self.client
        let seen = self.seen
        let stopFlag = self.stopFlag
        let failure = self.failure
        worker = Worker("notifications") {
            while !stopFlag.get {
                do {
                    guard let line = try client.readLine(timeout: 0.2) else {
                        if !stopFlag.get { failure.with { $0 = "the subscribe connection was closed by the daemon" } }
                        return
                    }
                    let t = monoNanos()
                    guard Scan.isNotification(line), let mid = Scan.string(after: Scan.messageIDKey, in: line) else {
                        continue
                    }
                    seen.with { s in if s[mid] == nil { s[mid] = t } }
                } catch is ReadTimeout {
                    continue
                } catch {
                    failure.with { $0 = "\(error)" }
                    return
                }
            }
        }
    }

    var count: Int { seen.with { $0.count } }
    func time(of mid: String) -> UInt64? { seen.with { $0[mid] } }
    func times(of mids: [String]) -> [UInt64?] { seen.with { s in mids.map { s[$0] } } }

    func check() throws {
        if let f = failure.get { throw BenchError("notification reader failed: \(f)") }
    }

    /// Waits until every one of `mids` has been notified. Gives up when nothing new arrives for `stall` seconds.
    /// Returns how many are still missing (0 = complete).
    func waitForAll(_ mids: [String], stall: Double, what: String) throws -> Int {
        var lastCount = -1
        var lastProgress = monoNanos()
        while true {
            try check()
            let missing = seen.with { s in mids.reduce(0) { $0 + (s[$1] == nil ? 1 : 0) } }
            if missing == 0 { return 0 }
            let c = count
            if c != lastCount {
                lastCount = c
                lastProgress = monoNanos()
            } else if secondsSince(lastProgress) > stall {
                Out.note(
                    "\(what): gave up waiting after \(fmt(stall, 0)) s without a new notification; \(missing) of \(mids.count) never arrived"
                )
                return missing
            }
            sleepSeconds(0.01)
        }
    }

    func stop() {
        stopFlag.with { $0 = true }
        worker?.join(timeout: 2)
        client.close()
    }
}

/// What happened to each request of a run: when it was written, when its response came, its message ID.
final class Ledger: @unchecked Sendable {
    let n: Int
    private let lock = NSLock()
    private var sent: [UInt64]
    private var answered: [UInt64]
    private var mids: [String?]
    private var firstError: String?
    private var answeredCount = 0

    init(n: Int) {
        self.n = n
        sent = Array(repeating: 0, count: n)
        answered = Array(repeating: 0, count: n)
        mids = Array(repeating: nil, count: n)
    }

    func markSent(_ i: Int, at t: UInt64) {
        lock.lock()
        sent[i] = t
        lock.unlock()
    }

    /// Records one response line; returns false when the line is not a response to one of this ledger's ids.
    func record(line: [UInt8], at t: UInt64, idBase: Int) -> Bool {
        guard let raw = Scan.int(after: Scan.idKey, in: line) else { return false }
        let i = raw - idBase
        guard i >= 0, i < n else { return false }
        lock.lock()
        defer { lock.unlock() }
        if Scan.isError(line) {
            if firstError == nil { firstError = String(decoding: line, as: UTF8.self) }
        } else if let mid = Scan.string(after: Scan.messageIDKey, in: line) {
            mids[i] = mid
        } else if firstError == nil {
            firstError = "unexpected response: " + String(decoding: line, as: UTF8.self)
        }
        if answered[i] == 0 { answeredCount += 1 }
        answered[i] = t
        return true
    }

    var error: String? { lock.lock(); defer { lock.unlock() }; return firstError }
    var answeredSoFar: Int { lock.lock(); defer { lock.unlock() }; return answeredCount }
    var snapshot: (sent: [UInt64], answered: [UInt64], mids: [String?]) {
        lock.lock()
        defer { lock.unlock() }
        return (sent, answered, mids)
    }
}

/// The request line for message `i` of a run.
func sendRequest(id: Int, to: String, text: String) -> [UInt8] {
    // Texts are plain ASCII without quotes or backslashes: no escaping needed.
    Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"messages.send","params":{"to":"\#(to)","text":"\#(text)"}}"#.utf8)
        + [0x0A]
}

/// Reads responses for `expected` requests on `client` into `ledger`, then returns. Calls `onResponse` each time.
func readResponses(
    _ client: LineClient, ledger: Ledger, idBase: Int, expected: Int, silence: Double,
    onResponse: @escaping @Sendable () -> Void
) -> Worker {
    Worker("responses") {
        var got = 0
        while got < expected {
            do {
                guard let line = try client.readLine(timeout: silence) else { return }
                let t = monoNanos()
                if ledger.record(line: line, at: t, idBase: idBase) {
                    got += 1
                    onResponse()
                }
            } catch {
                return  // the main thread notices the missing responses and reports them
            }
        }
    }
}

struct Percentiles {
    let p50, p90, p99, max: Double

    init(_ values: [Double]) {
        let s = values.sorted()
        p50 = percentile(s, 50)
        p90 = percentile(s, 90)
        p99 = percentile(s, 99)
        max = s.last ?? .nan
    }

    func report(_ prefix: String, unit: String = "ms") {
        Out.value("\(prefix).p50", p50, unit, digits: 2)
        Out.value("\(prefix).p90", p90, unit, digits: 2)
        Out.value("\(prefix).p99", p99, unit, digits: 2)
        Out.value("\(prefix).max", max, unit, digits: 2)
    }
}
