import Foundation

/// Two builds of `estafetted` side by side in one run: a pair of daemons of each build, measured in turn
/// (baseline, new, new, baseline, … so drift in the machine's load falls on both alike). Each round runs one
/// throughput run per build, then a share of the latency messages per build. Prints each build's figures (median
/// over rounds for throughput and CPU; percentiles over all rounds' samples for latency) and the ratios.
enum E2ECompare {
    static func run(_ o: E2EOptions, baseline: String) throws {
        try checkLoopbackMulticast()
        let current = try o.daemon ?? Binaries.daemon()
        for path in [current, baseline] where !FileManager.default.isExecutableFile(atPath: path) {
            throw BenchError("\(path) is not an executable estafetted")
        }
        let rounds = max(1, o.rounds)
        Out.section(
            "e2e comparison: baseline vs new, \(rounds) interleaved rounds, \(o.textBytes)-byte texts, "
                + "\(o.messages) messages per throughput run")
        Out.note("baseline = \(baseline)")
        Out.note("new      = \(current)")

        let base = try E2EPair(label: "baseline", binary: baseline, textBytes: o.textBytes)
        defer { base.stop() }
        let new = try E2EPair(label: "new", binary: current, textBytes: o.textBytes)
        defer { new.stop() }
        let builds: [(label: String, pair: E2EPair)] = [("baseline", base), ("new", new)]

        var throughput: [String: [ThroughputResult]] = [:]
        var latency: [String: LatencyResult] = [:]
        let perRound = max(1, o.latencyMessages / rounds)
        for r in 0..<rounds {
            let order = r % 2 == 0 ? builds : builds.reversed()
            for (label, pair) in order {
                sleepSeconds(1)
                Out.progress("round \(r + 1)/\(rounds): \(label) throughput")
                let t = try E2EBench.throughput(o, pair: pair)
                if t.missing > 0 { Out.note("INCOMPLETE: \(label) round \(r + 1): \(t.missing) messages missing") }
                Out.note(
                    "round \(r + 1) \(label): \(fmt(t.rate, 0)) msg/s, CPU/msg A \(fmt(t.cpuA, 0)) µs "
                        + "B \(fmt(t.cpuB, 0)) µs, fsyncs: A commits \(t.delta(\.a, "commits")) "
                        + "B commits \(t.delta(\.b, "commits"))")
                throughput[label, default: []].append(t)
            }
            for (label, pair) in order {
                sleepSeconds(1)
                Out.progress("round \(r + 1)/\(rounds): \(label) latency")
                let l = try E2EBench.latency(o, pair: pair, messages: perRound, idBase: 10_000_000 + r * perRound)
                if var all = latency[label] {
                    all.merge(l)
                    latency[label] = all
                } else {
                    latency[label] = l
                }
            }
        }
        report(throughput: throughput, latency: latency, rate: o.rate)
    }

    static func report(throughput: [String: [ThroughputResult]], latency: [String: LatencyResult], rate: Double) {
        let p = "e2e.compare"
        for label in ["baseline", "new"] {
            let runs = throughput[label] ?? []
            Out.value("\(p).\(label).throughput.rate", median(runs.map(\.rate)), "msg/s", digits: 0)
            Out.note("\(label) throughput runs: " + runs.map { fmt($0.rate, 0) }.joined(separator: ", ") + " msg/s")
            Out.value("\(p).\(label).a_accept_rate", median(runs.map(\.acceptRate)), "msg/s", digits: 0)
            Out.value("\(p).\(label).sender_cpu_per_message", median(runs.map(\.cpuA)), "µs", digits: 0)
            Out.value("\(p).\(label).receiver_cpu_per_message", median(runs.map(\.cpuB)), "µs", digits: 0)
            Out.value("\(p).\(label).a_write_bytes_per_message", median(runs.map(\.writeBytesA)), "B", digits: 0)
            Out.value("\(p).\(label).b_write_bytes_per_message", median(runs.map(\.writeBytesB)), "B", digits: 0)
            Out.int("\(p).\(label).messages_missing", runs.reduce(0) { $0 + $1.missing })
            if let l = latency[label] {
                Out.int("\(p).\(label).latency.messages_received", l.e2e.count)
                if l.missing > 0 { Out.note("INCOMPLETE: \(label) latency: \(l.missing) messages missing") }
                Out.value("\(p).\(label).latency.max_send_lag_behind_schedule", l.lagMillis, "ms", digits: 2)
                Percentiles(l.e2e).report("\(p).\(label).latency_at_\(fmt(rate, 0))_msg_s.send_to_notify")
                Percentiles(l.commit).report("\(p).\(label).latency_at_\(fmt(rate, 0))_msg_s.send_to_response_on_a")
            }
        }
        let base = throughput["baseline"] ?? []
        let new = throughput["new"] ?? []
        Out.value(
            "\(p).throughput.ratio_new_to_baseline", median(new.map(\.rate)) / median(base.map(\.rate)), "x", digits: 3)
        // Per round, the two builds ran back to back: the ratio of each round's pair, then their median.
        let paired = zip(new, base).map { $0.rate / $1.rate }
        Out.note("per-round throughput ratios: " + paired.map { fmt($0, 3) }.joined(separator: ", "))
        Out.value(
            "\(p).sender_cpu_ratio_new_to_baseline", median(new.map(\.cpuA)) / median(base.map(\.cpuA)), "x", digits: 3)
        Out.value(
            "\(p).receiver_cpu_ratio_new_to_baseline", median(new.map(\.cpuB)) / median(base.map(\.cpuB)), "x",
            digits: 3)
        if let lb = latency["baseline"], let ln = latency["new"] {
            let p99b = Percentiles(lb.e2e).p99
            let p99n = Percentiles(ln.e2e).p99
            Out.value("\(p).latency_p99_ratio_new_to_baseline", p99n / p99b, "x", digits: 3)
        }
    }
}
