import ArgumentParser
import EstafetteCore

#if canImport(Glibc)
    import Glibc
#endif

/// `estafette-bench negentropy`: the relay sync's reconciliation cost (docs/benchmarks.md, docs/negentropy.md).
struct NegentropyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "negentropy",
        abstract: "Negentropy v1 set reconciliation: protocol bytes and round trips, build time and memory.")
    @Option(help: "Records per side in the sync scenarios.")
    var records = 100_000
    @Option(help: "Records that differ between the sides.")
    var differing = 100
    @Option(help: "Records for the build-time and memory figures.")
    var large = 1_000_000
    func run() throws {
        try guarded { try NegentropyBench.run(records: records, differing: differing, large: large) }
    }
}

enum NegentropyBench {
    static let base: UInt64 = 1_700_000_000
    static let week: UInt64 = 604_800

    struct Outcome {
        var up = 0
        var down = 0
        var messages = 0
        var seconds = 0.0
        var have = 0
        var need = 0
        var roundTrips: Int { (messages + 1) / 2 }
    }

    /// One whole reconciliation in process; throws unless each side learns exactly what it lacks.
    static func reconcile(
        _ a: NegentropyStorage, _ b: NegentropyStorage, splitting: NegentropySplitting, limit: Int = 0,
        expectHave: Int, expectNeed: Int
    ) throws -> Outcome {
        var initiator = try NegentropySession(storage: a, splitting: splitting, frameSizeLimit: limit)
        var responder = try NegentropySession(storage: b, splitting: splitting, frameSizeLimit: limit)
        var o = Outcome()
        let start = monoNanos()
        var message = try initiator.initiate()
        while true {
            o.messages += 1
            o.up += message.count
            let reply = try responder.respond(to: message)
            o.messages += 1
            o.down += reply.count
            let r = try initiator.reconcile(reply)
            o.have += r.have.count
            o.need += r.need.count
            guard let next = r.reply else { break }
            message = next
            if o.messages > 10_000 { throw BenchError("negentropy: no end after 10,000 messages") }
        }
        o.seconds = secondsSince(start)
        guard o.have == expectHave && o.need == expectNeed else {
            throw BenchError("negentropy: have \(o.have) need \(o.need), expected \(expectHave) and \(expectNeed)")
        }
        return o
    }

    static func records(_ n: Int, from start: UInt64 = base, span: UInt64 = week, rng: inout SplitMix64)
        -> [NegentropyRecord]
    {
        (0..<n).map { _ in
            var bytes = [UInt8](repeating: 0, count: 32)
            for k in 0..<4 {
                let w = rng.next()
                for j in 0..<8 { bytes[k * 8 + j] = UInt8(truncatingIfNeeded: w >> (8 * UInt64(j))) }
            }
            return NegentropyRecord(
                timestamp: start + UInt64.random(in: 0..<span, using: &rng), id: EnvelopeID(bytes: bytes))
        }
    }

    static func report(_ name: String, _ o: Outcome) {
        Out.int("\(name).bytes_up", o.up, "B")
        Out.int("\(name).bytes_down", o.down, "B")
        Out.value("\(name).bytes_total", Double(o.up + o.down) / 1024, "KiB", digits: 2)
        Out.int("\(name).messages", o.messages)
        Out.int("\(name).round_trips", o.roundTrips)
        Out.value("\(name).time", o.seconds * 1000, "ms", digits: 1)
    }

    static func run(records n: Int, differing d: Int, large: Int) throws {
        Out.section("negentropy (in process, both sides; records (expires_at, id) over one week)")
        var rng = SplitMix64(seed: 0x6E65_6700)
        var all = records(n + d / 2, rng: &rng)
        all.sort()
        let sameA = try NegentropyStorage(sorted: all)
        Out.note("\(n) records a side; \(d) differ, half on each side (each side still holds \(n)).")

        for (label, chosen) in [
            ("newest", Array((all.count - d)..<all.count)),
            ("spread", Array((0..<all.count).shuffled(using: &rng).prefix(d))),
        ] {
            let onlyA = Set(chosen.prefix(d / 2))
            let onlyB = Set(chosen.suffix(d - d / 2))
            let a = try NegentropyStorage(sorted: all.enumerated().filter { !onlyB.contains($0.offset) }.map(\.element))
            let b = try NegentropyStorage(sorted: all.enumerated().filter { !onlyA.contains($0.offset) }.map(\.element))
            for (rules, splitting) in [("estafette", NegentropySplitting.estafette), ("reference", .reference)] {
                let o = try reconcile(a, b, splitting: splitting, expectHave: onlyA.count, expectNeed: onlyB.count)
                report("negentropy.\(n / 1000)k.\(label).\(rules)", o)
            }
            let limited = try reconcile(
                a, b, splitting: .estafette, limit: 60_000, expectHave: onlyA.count, expectNeed: onlyB.count)
            report("negentropy.\(n / 1000)k.\(label).estafette_frame60000", limited)
            // A node back after an hour lacks the newest and has nothing new itself.
            if label == "newest" {
                let behind = try NegentropyStorage(sorted: Array(all.prefix(all.count - d)))
                let o = try reconcile(behind, sameA, splitting: .estafette, expectHave: 0, expectNeed: d)
                report("negentropy.\(n / 1000)k.newest_one_sided.estafette", o)
            }
        }
        let same = try reconcile(sameA, sameA, splitting: .estafette, expectHave: 0, expectNeed: 0)
        report("negentropy.\(n / 1000)k.identical.estafette", same)
        let empty = try NegentropyStorage([])
        let fromEmpty = try reconcile(
            empty, sameA, splitting: .estafette, limit: 60_000, expectHave: 0, expectNeed: all.count)
        report("negentropy.\(n / 1000)k.from_empty.estafette_frame60000", fromEmpty)
        all = []

        try runLarge(large, differing: d, rng: &rng)
    }

    static func runLarge(_ n: Int, differing d: Int, rng: inout SplitMix64) throws {
        Out.section("negentropy storage at \(n) records")
        let before = try Memory(pid: getpid())
        let storage: NegentropyStorage
        do {
            let unsorted = records(n, rng: &rng)
            let start = monoNanos()
            storage = try NegentropyStorage(unsorted)
            Out.value("negentropy.\(n / 1000)k.storage_build_from_unsorted", secondsSince(start) * 1000, "ms")
        }
        let after = try Memory(pid: getpid())
        Out.value(
            "negentropy.\(n / 1000)k.storage_bytes_per_record.layout",
            Double(MemoryLayout<NegentropyRecord>.stride) + 32.0 / 32, "B", digits: 1)
        Out.value(
            "negentropy.\(n / 1000)k.rss_anon_growth_per_record", Double(after.anon - before.anon) / Double(n), "B",
            digits: 1)
        Out.value("negentropy.\(n / 1000)k.peak_rss", mib(after.hwm), "MiB")

        var start = monoNanos()
        let presorted = try NegentropyStorage(sorted: storage.records)
        Out.value("negentropy.\(n / 1000)k.storage_build_from_sorted", secondsSince(start) * 1000, "ms")

        start = monoNanos()
        var x = 0
        let samples = 100_000
        for _ in 0..<samples {
            let lo = Int.random(in: 0..<n, using: &rng)
            let hi = Int.random(in: lo...n, using: &rng)
            x &+= Int(presorted.fingerprint(lo..<hi).bytes[0])
        }
        let perFingerprint = secondsSince(start) / Double(samples)
        Out.value("negentropy.\(n / 1000)k.fingerprint_any_range", perFingerprint * 1e6, "µs", digits: 2)
        Out.note("fingerprint checksum \(x) (keeps the loop from being optimised away)")

        // Two stores of n that differ by d spread over the week, one-sided: a relay that missed d envelopes.
        let missing = Set((0..<n).shuffled(using: &rng).prefix(d))
        let b = try NegentropyStorage(
            sorted: presorted.records.enumerated().filter { !missing.contains($0.offset) }.map(\.element))
        let o = try reconcile(presorted, b, splitting: .estafette, expectHave: d, expectNeed: 0)
        report("negentropy.\(n / 1000)k.spread_one_sided.estafette", o)
        let r = try reconcile(presorted, b, splitting: .reference, expectHave: d, expectNeed: 0)
        report("negentropy.\(n / 1000)k.spread_one_sided.reference", r)
    }
}
