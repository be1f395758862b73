import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct E2EOptions {
    var messages = 10_000
    var connections = 4
    var window = 64
    var latencyMessages = 2_500
    var rate = 100.0
    var textBytes = 100
    var floorSeconds = 1.0
    /// The daemon binary (default: `estafetted` next to the benchmark).
    var daemon: String? = nil
    /// A second daemon binary to compare against, run interleaved with `daemon` (see `E2ECompare`).
    var baselineDaemon: String? = nil
    /// Interleaved rounds per build in a comparison.
    var rounds = 3
}

/// Two daemons of one build, A (sender) and B (receiver), on their own group and port, with B's notifications
/// read by a collector. A knows B as contact `b`.
final class E2EPair {
    let a: Daemon
    let b: Daemon
    let notes: NotificationCollector
    let root: String

    init(label: String, binary: String, textBytes: Int) throws {
        let root = try makeScratchDir("e2e-\(label)")
        let (group, port) = randomGroupAndPort()
        let a = try Daemon(name: "a", root: root, group: group, port: port, binary: binary)
        let b = try Daemon(name: "b", root: root, group: group, port: port, binary: binary)
        Out.progress("\(label): starting two daemons on \(group):\(port) (lo), \(binary)")
        do {
            try a.start()
            try b.start()
            let bID = try b.id()
            _ = try a.call("contacts.add", ["name": "b", "id": bID])
            try waitFor("A and B to see each other on the LAN (peers ≥ 1)", timeout: 30, interval: 0.1) {
                try a.status().peers >= 1 && b.status().peers >= 1
            }
            notes = try NotificationCollector(daemon: b)
        } catch {
            a.stop()
            b.stop()
            removeScratchDir(root)
            throw error
        }
        (self.root, self.a, self.b) = (root, a, b)
        // Warm-up (not measured): a few messages one at a time, so the path is known to work end to end.
        Out.progress("\(label): warm-up, 50 messages")
        let c = try a.connect()
        var mids: [String] = []
        for i in 0..<50 {
            let r = try c.callObject("messages.send", ["to": "b", "text": sampleText(bytes: textBytes, seed: -1 - i)])
            guard let mid = r["message_id"] as? String else { throw BenchError("messages.send: no message_id") }
            mids.append(mid)
        }
        c.close()
        let missing = try notes.waitForAll(mids, stall: 30, what: "warm-up")
        guard missing == 0 else {
            throw BenchError(
                "B did not receive \(missing) of 50 warm-up messages; A log:\n\(a.logTail())\nB log:\n\(b.logTail())")
        }
    }

    /// Stops both daemons; notes an unclean exit.
    func stop() {
        notes.stop()
        let sa = a.stop()
        let sb = b.stop()
        if sa != 0 || sb != 0 { Out.note("daemon exit status: A \(sa), B \(sb) (expected 0)") }
        removeScratchDir(root)
    }
}

enum E2EBench {
    static func run(_ o: E2EOptions) throws {
        if let baseline = o.baselineDaemon {
            try E2ECompare.run(o, baseline: baseline)
            return
        }
        Out.section("e2e (two release estafetted on loopback multicast; \(o.textBytes)-byte texts)")
        try checkLoopbackMulticast()
        let binary = try o.daemon ?? Binaries.daemon()

        // The crypto floor, measured in this process first, on this run's machine state.
        let floor = try CryptoBench.floor(textBytes: o.textBytes, seconds: o.floorSeconds)
        Out.value("e2e.crypto_floor.\(o.textBytes)B", floor.floor.opsPerSecond, "msg/s", digits: 0)

        let pair = try E2EPair(label: "e2e", binary: binary, textBytes: o.textBytes)
        defer { pair.stop() }
        sleepSeconds(1)

        let t = try throughput(o, pair: pair)
        t.report("e2e.throughput")
        Out.value("e2e.throughput.vs_crypto_floor", t.rate / floor.floor.opsPerSecond, "x", digits: 4)
        sleepSeconds(2)
        let l = try latency(o, pair: pair, messages: o.latencyMessages, idBase: 10_000_000)
        l.report("e2e.latency", rate: o.rate)

        let sa = try pair.a.status()
        let sb = try pair.b.status()
        Out.note("A drops: \(sa.drops); B drops: \(sb.drops)")
        Out.int("e2e.b.envelopes_duplicate", sb["envelopes_duplicate"])
        Out.int("e2e.b.messages_delivered", sb["messages_delivered"])
    }

    /// (a) As fast as possible: `connections` connections, each with up to `window` requests outstanding.
    static func throughput(_ o: E2EOptions, pair: E2EPair) throws -> ThroughputResult {
        let (a, b, notes) = (pair.a, pair.b, pair.notes)
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
        var lat: [Double] = []
        for (i, t) in times.enumerated() { if let t { lat.append(Double(t - snap.sent[i]) / 1e6) } }
        let total = Double(tLast - t0) / 1e9
        return ThroughputResult(
            sent: n, received: delivered.count, missing: missing, duration: total,
            rate: Double(delivered.count) / total, acceptRate: Double(n) / (Double(tLastAnswer - t0) / 1e9),
            underSaturation: Percentiles(lat), cpuA: cpuA / Double(n) * 1e6, cpuB: cpuB / Double(n) * 1e6,
            writeBytesA: Double(ioA.writeBytes - ioA0.writeBytes) / Double(n),
            writeBytesB: Double(ioB.writeBytes - ioB0.writeBytes) / Double(n),
            writeSyscallsA: Double(ioA.syscw - ioA0.syscw) / Double(n),
            before: (statusA0, statusB0), after: (statusA1, statusB1))
    }

    /// (b) Open loop at a fixed offered load: one send every 1/rate s, whatever the replies do.
    static func latency(_ o: E2EOptions, pair: E2EPair, messages n: Int, idBase: Int) throws -> LatencyResult {
        let (a, notes) = (pair.a, pair.notes)
        let interval = UInt64(1e9 / o.rate)
        Out.progress("latency: \(n) messages at \(fmt(o.rate, 0)) msg/s (open loop, \(fmt(Double(n) / o.rate, 0)) s)")
        let lines = (0..<n).map {
            sendRequest(id: idBase + $0, to: "b", text: sampleText(bytes: o.textBytes, seed: idBase + $0))
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
        var result = LatencyResult(sent: n, missing: missing, lagMillis: Double(lag.get) / 1e6)
        for i in 0..<n {
            result.commit.append(Double(snap.answered[i] - snap.sent[i]) / 1e6)
            if let t = times[i] { result.e2e.append(Double(t - snap.sent[i]) / 1e6) }
        }
        return result
    }
}

/// The figures of one throughput run.
struct ThroughputResult {
    let sent, received, missing: Int
    let duration, rate, acceptRate: Double
    let underSaturation: Percentiles
    /// CPU time per message (µs) of the sender (A) and the receiver (B).
    let cpuA, cpuB: Double
    let writeBytesA, writeBytesB, writeSyscallsA: Double
    let before, after: (a: Status, b: Status)

    func delta(_ side: KeyPath<(a: Status, b: Status), Status>, _ counter: String) -> Int {
        after[keyPath: side][counter] - before[keyPath: side][counter]
    }

    func report(_ prefix: String) {
        Out.int("\(prefix).messages_sent", sent)
        Out.int("\(prefix).messages_received", received)
        if missing > 0 {
            Out.note(
                "INCOMPLETE: \(missing) messages never reached B's subscriber (B counts \(delta(\.b, "messages_delivered")) delivered in this run)"
            )
        }
        Out.value("\(prefix).duration", duration, "s", digits: 2)
        Out.value("\(prefix).rate", rate, "msg/s", digits: 0)
        Out.value("\(prefix).a_accept_rate", acceptRate, "msg/s", digits: 0)
        underSaturation.report("\(prefix).send_to_notify_under_saturation")
        Out.value("\(prefix).a_cpu_per_message", cpuA, "µs", digits: 0)
        Out.value("\(prefix).b_cpu_per_message", cpuB, "µs", digits: 0)
        Out.value("\(prefix).a_write_bytes_per_message", writeBytesA, "B", digits: 0)
        Out.value("\(prefix).b_write_bytes_per_message", writeBytesB, "B", digits: 0)
        Out.value("\(prefix).a_write_syscalls_per_message", writeSyscallsA, "", digits: 1)
        // Datagrams dropped because a daemon's inbound queue (4096) was full, and the repairs that followed.
        Out.int("\(prefix).a_rx_queue_full_drops", delta(\.a, "drop.rx_queue_full"))
        Out.int("\(prefix).b_rx_queue_full_drops", delta(\.b, "drop.rx_queue_full"))
        Out.int("\(prefix).b_envelopes_duplicate", delta(\.b, "envelopes_duplicate"))
        Out.note("A counters during the run: \(counterDelta(before.a, after.a))")
        Out.note("B counters during the run: \(counterDelta(before.b, after.b))")
    }

    func counterDelta(_ before: Status, _ after: Status) -> String {
        after.counters.keys.sorted().compactMap { k in
            let d = after[k] - before[k]
            return d == 0 ? nil : "\(k)=\(d)"
        }.joined(separator: " ")
    }
}

/// The samples of one latency run (milliseconds).
struct LatencyResult {
    var sent: Int
    var missing: Int
    var lagMillis: Double
    /// Send on A → notification on B, per message that arrived.
    var e2e: [Double] = []
    /// Send → response on A (the local commit), per message.
    var commit: [Double] = []

    /// Several runs' samples together (for percentiles over all of them).
    mutating func merge(_ other: LatencyResult) {
        sent += other.sent
        missing += other.missing
        lagMillis = max(lagMillis, other.lagMillis)
        e2e += other.e2e
        commit += other.commit
    }

    func report(_ prefix: String, rate: Double) {
        Out.value("\(prefix).offered_load", rate, "msg/s", digits: 0)
        Out.int("\(prefix).messages_sent", sent)
        Out.int("\(prefix).messages_received", e2e.count)
        if missing > 0 { Out.note("INCOMPLETE: \(missing) messages never reached B's subscriber") }
        Out.value("\(prefix).max_send_lag_behind_schedule", lagMillis, "ms", digits: 2)
        Percentiles(e2e).report("\(prefix).send_to_notify")
        Percentiles(commit).report("\(prefix).send_to_response_on_a")
    }
}
