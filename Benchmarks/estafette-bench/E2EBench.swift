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

struct E2EOptions {
    var messages = 10_000
    var connections = 4
    var window = 64
    var latencyMessages = 2_500
    var rate = 100.0
    var textBytes = 100
    var floorSeconds = 1.0
}

enum E2EBench {
    static func run(_ o: E2EOptions) throws {
        Out.section("e2e (two release estafetted on loopback multicast; \(o.textBytes)-byte texts)")
        try checkLoopbackMulticast()
        _ = try Binaries.daemon()

        // The crypto floor, measured in this process first, on this run's machine state.
        let floor = try CryptoBench.floor(textBytes: o.textBytes, seconds: o.floorSeconds)
        Out.value("e2e.crypto_floor.\(o.textBytes)B", floor.floor.opsPerSecond, "msg/s", digits: 0)

        let root = try makeScratchDir("e2e")
        let (group, port) = randomGroupAndPort()
        let a = try Daemon(name: "a", root: root, group: group, port: port)
        let b = try Daemon(name: "b", root: root, group: group, port: port)
        var collector: NotificationCollector? = nil
        defer {
            collector?.stop()
            a.stop()
            b.stop()
            removeScratchDir(root)
        }
        Out.progress("starting two daemons on \(group):\(port) (lo)")
        try a.start()
        try b.start()
        let bID = try b.id()
        _ = try a.call("contacts.add", ["name": "b", "id": bID])
        try waitFor("A and B to see each other on the LAN (peers ≥ 1)", timeout: 30, interval: 0.1) {
            try a.status().peers >= 1 && b.status().peers >= 1
        }
        let notes = try NotificationCollector(daemon: b)
        collector = notes

        // Warm-up (not measured): a few messages one at a time, so the path is known to work end to end.
        Out.progress("warm-up: 50 messages")
        do {
            let c = try a.connect()
            var mids: [String] = []
            for i in 0..<50 {
                let r = try c.callObject(
                    "messages.send", ["to": "b", "text": sampleText(bytes: o.textBytes, seed: -1 - i)])
                guard let mid = r["message_id"] as? String else { throw BenchError("messages.send: no message_id") }
                mids.append(mid)
            }
            let missing = try notes.waitForAll(mids, stall: 30, what: "warm-up")
            guard missing == 0 else {
                throw BenchError(
                    "B did not receive \(missing) of 50 warm-up messages; A log:\n\(a.logTail())\nB log:\n\(b.logTail())"
                )
            }
        }
        sleepSeconds(1)

        try throughput(o, a: a, b: b, notes: notes, floor: floor)
        sleepSeconds(2)
        try latency(o, a: a, b: b, notes: notes)

        let sa = try a.status()
        let sb = try b.status()
        Out.note("A drops: \(sa.drops); B drops: \(sb.drops)")
        Out.int("e2e.b.envelopes_duplicate", sb["envelopes_duplicate"])
        Out.int("e2e.b.messages_delivered", sb["messages_delivered"])
        let sa2 = a.stop()
        let sb2 = b.stop()
        if sa2 != 0 || sb2 != 0 { Out.note("daemon exit status: A \(sa2), B \(sb2) (expected 0)") }
    }

    /// (a) As fast as possible: `connections` connections, each with up to `window` requests outstanding.
    static func throughput(_ o: E2EOptions, a: Daemon, b: Daemon, notes: NotificationCollector, floor: CryptoFloor)
        throws
    {
        let n = o.messages
        Out.progress("throughput: \(n) messages, \(o.connections) connection(s) × window \(o.window)")
        let idBase = 1
        let lines = (0..<n).map {
            sendRequest(id: idBase + $0, to: "b", text: sampleText(bytes: o.textBytes, seed: $0))
        }
        let ledger = Ledger(n: n)
        let clients = try (0..<o.connections).map { _ in try a.connect() }
        let statusA0 = try a.status()
        let statusB0 = try b.status()
        let cpuA0 = cpuSeconds(pid: a.pid)
        let cpuB0 = cpuSeconds(pid: b.pid)
        let ioA0 = try a.io()
        let ioB0 = try b.io()
        let writeFailure = Locked<String?>(nil)
        let t0 = monoNanos()
        var workers: [Worker] = []
        for (k, client) in clients.enumerated() {
            let mine = Array(stride(from: k, to: n, by: o.connections))
            let window = DispatchSemaphore(value: o.window)
            workers.append(
                readResponses(client, ledger: ledger, idBase: idBase, expected: mine.count, silence: 120) {
                    window.signal()
                })
            workers.append(
                Worker("writer-\(k)") {
                    for i in mine {
                        // A bounded wait, so a stuck daemon shows up as missing responses, not a hang.
                        if window.wait(timeout: .now() + 120) == .timedOut { return }
                        ledger.markSent(i, at: monoNanos())
                        do {
                            try client.write(lines[i])
                        } catch {
                            writeFailure.with { $0 = "\(error)" }
                            return
                        }
                    }
                })
        }
        for w in workers { w.join() }
        if let e = writeFailure.get { throw BenchError("throughput: \(e)") }
        if let e = ledger.error { throw BenchError("throughput: messages.send failed: \(e)") }
        guard ledger.answeredSoFar == n else {
            throw BenchError(
                "throughput: only \(ledger.answeredSoFar) of \(n) messages.send answered (no answer for 120 s); "
                    + "A log:\n\(a.logTail())")
        }
        let snap = ledger.snapshot
        let mids = snap.mids.map { $0! }
        let missing = try notes.waitForAll(mids, stall: 60, what: "throughput")
        for c in clients { c.close() }
        let cpuA = cpuSeconds(pid: a.pid) - cpuA0
        let cpuB = cpuSeconds(pid: b.pid) - cpuB0
        let ioA = try a.io()
        let ioB = try b.io()

        let statusA1 = try a.status()
        let statusB1 = try b.status()

        let times = notes.times(of: mids)
        let delivered = times.compactMap { $0 }
        guard let tLast = delivered.max() else { throw BenchError("throughput: no message reached B") }
        let tLastAnswer = snap.answered.max()!
        let total = Double(tLast - t0) / 1e9
        let rate = Double(delivered.count) / total
        Out.int("e2e.throughput.messages_sent", n)
        Out.int("e2e.throughput.messages_received", delivered.count)
        if missing > 0 {
            Out.note(
                "INCOMPLETE: \(missing) messages never reached B's subscriber (B counts \(statusB1["messages_delivered"] - statusB0["messages_delivered"]) delivered in this run)"
            )
        }
        Out.value("e2e.throughput.duration", total, "s", digits: 2)
        Out.value("e2e.throughput.rate", rate, "msg/s", digits: 0)
        Out.value("e2e.throughput.vs_crypto_floor", rate / floor.floor.opsPerSecond, "x", digits: 4)
        Out.value("e2e.throughput.a_accept_rate", Double(n) / (Double(tLastAnswer - t0) / 1e9), "msg/s", digits: 0)
        var lat: [Double] = []
        for (i, t) in times.enumerated() { if let t { lat.append(Double(t - snap.sent[i]) / 1e6) } }
        Percentiles(lat).report("e2e.throughput.send_to_notify_under_saturation")
        Out.value("e2e.throughput.a_cpu_per_message", cpuA / Double(n) * 1e6, "µs", digits: 0)
        Out.value("e2e.throughput.b_cpu_per_message", cpuB / Double(n) * 1e6, "µs", digits: 0)
        Out.value(
            "e2e.throughput.a_write_bytes_per_message", Double(ioA.writeBytes - ioA0.writeBytes) / Double(n), "B",
            digits: 0)
        Out.value(
            "e2e.throughput.b_write_bytes_per_message", Double(ioB.writeBytes - ioB0.writeBytes) / Double(n), "B",
            digits: 0)
        Out.value(
            "e2e.throughput.a_write_syscalls_per_message", Double(ioA.syscw - ioA0.syscw) / Double(n), "", digits: 1)
        // Datagrams dropped because a daemon's inbound queue (4096) was full, and the repairs that followed.
        Out.int("e2e.throughput.a_rx_queue_full_drops", statusA1["drop.rx_queue_full"] - statusA0["drop.rx_queue_full"])
        Out.int("e2e.throughput.b_rx_queue_full_drops", statusB1["drop.rx_queue_full"] - statusB0["drop.rx_queue_full"])
        Out.int(
            "e2e.throughput.b_envelopes_duplicate", statusB1["envelopes_duplicate"] - statusB0["envelopes_duplicate"])
        Out.note("A counters during the run: \(counterDelta(statusA0, statusA1))")
        Out.note("B counters during the run: \(counterDelta(statusB0, statusB1))")
    }

    static func counterDelta(_ before: Status, _ after: Status) -> String {
        after.counters.keys.sorted().compactMap { k in
            let d = after[k] - before[k]
            return d == 0 ? nil : "\(k)=\(d)"
        }.joined(separator: " ")
    }

    /// (b) Open loop at a fixed offered load: one send every 1/rate s, whatever the replies do.
    static func latency(_ o: E2EOptions, a: Daemon, b: Daemon, notes: NotificationCollector) throws {
        let n = o.latencyMessages
        let interval = UInt64(1e9 / o.rate)
        Out.progress("latency: \(n) messages at \(fmt(o.rate, 0)) msg/s (open loop, \(fmt(Double(n) / o.rate, 0)) s)")
        let idBase = 10_000_000
        let lines = (0..<n).map {
            sendRequest(id: idBase + $0, to: "b", text: sampleText(bytes: o.textBytes, seed: 10_000_000 + $0))
        }
        let ledger = Ledger(n: n)
        let client = try a.connect()
        let lag = Locked<UInt64>(0)
        let writeFailure = Locked<String?>(nil)
        let reader = readResponses(client, ledger: ledger, idBase: idBase, expected: n, silence: 120) {}
        let t0 = monoNanos() + 10_000_000
        let writer = Worker("paced-writer") {
            for i in 0..<n {
                let due = t0 + UInt64(i) * interval
                sleepUntil(due)
                let t = monoNanos()
                lag.with { $0 = max($0, t - due) }
                ledger.markSent(i, at: t)
                do {
                    try client.write(lines[i])
                } catch {
                    writeFailure.with { $0 = "\(error)" }
                    return
                }
            }
        }
        writer.join()
        reader.join()
        if let e = writeFailure.get { throw BenchError("latency: \(e)") }
        if let e = ledger.error { throw BenchError("latency: messages.send failed: \(e)") }
        guard ledger.answeredSoFar == n else {
            throw BenchError("latency: only \(ledger.answeredSoFar) of \(n) messages.send answered")
        }
        let snap = ledger.snapshot
        let mids = snap.mids.map { $0! }
        let missing = try notes.waitForAll(mids, stall: 60, what: "latency")
        client.close()
        let times = notes.times(of: mids)
        var e2e: [Double] = []
        var commit: [Double] = []
        for i in 0..<n {
            commit.append(Double(snap.answered[i] - snap.sent[i]) / 1e6)
            if let t = times[i] { e2e.append(Double(t - snap.sent[i]) / 1e6) }
        }
        Out.value("e2e.latency.offered_load", o.rate, "msg/s", digits: 0)
        Out.int("e2e.latency.messages_sent", n)
        Out.int("e2e.latency.messages_received", e2e.count)
        if missing > 0 { Out.note("INCOMPLETE: \(missing) messages never reached B's subscriber") }
        Out.value("e2e.latency.max_send_lag_behind_schedule", Double(lag.get) / 1e6, "ms", digits: 2)
        Percentiles(e2e).report("e2e.latency.send_to_notify")
        Percentiles(commit).report("e2e.latency.send_to_response_on_a")
    }
}
