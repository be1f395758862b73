import ArgumentParser
import EstafetteCore
import EstafetteSim

/// Runs one simulated scenario, or sweeps random seeds, and prints the metrics as `key: value` lines.
@main
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estafette-sim",
        abstract: "Run Estafette mesh nodes on a deterministic simulated network.",
        discussion: """
            Every random choice comes from --seed, so a run replays event for event. A failing run prints its seed \
            and the command that replays it. Scenarios: \(scenarioList).
            """)

    @Option(help: "The scenario to run.")
    var scenario: String

    @Option(help: "Number of nodes.")
    var nodes: Int?

    @Option(help: "Probability that one receiver misses one datagram (independent per receiver).")
    var loss: Double?

    @Option(help: "Number of envelopes injected.")
    var envelopes: Int?

    @Option(help: "The seed (random when omitted).")
    var seed: UInt64?

    @Option(help: "Run this many random seeds (drawn from --seed when given) and print any that fail.")
    var seeds: Int?

    @Option(help: "Number of LAN segments, chained by bridging nodes (islands: the number of islands).")
    var segments: Int?

    @Option(help: "Probability that a datagram arrives twice.")
    var duplicate: Double?

    @Option(help: "Envelope lifetime in seconds.")
    var lifetime: Int?

    @Option(help: "Seconds of virtual time allowed to converge after the last injection or partition change.")
    var bound: Int?

    @Option(help: "islands: relays in the ring (default 5).")
    var relays: Int?

    @Option(help: "islands: relay crashes, each 10 s down (default 3).")
    var crashes: Int?

    @Flag(help: "islands: relays in a chain rather than a ring.")
    var relayChain = false

    @Option(help: "rejoin: envelopes every node holds before the run (default 100000).")
    var store: Int?

    @Flag(help: "rejoin: the rejoining node holds the new envelopes, rather than lacking them.")
    var rejoinHolds = false

    @Flag(
        inversion: .prefixedNo,
        help: "Range summaries in repair rounds (MeshNode.Settings.rangeSummaries; off by default, as in the daemon).")
    var rangeSummaries = false

    func validate() throws {
        guard ScenarioName(rawValue: scenario) != nil else {
            throw ValidationError(
                "unknown scenario '\(scenario)'; one of: \(scenarioList)")
        }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        do {
            try options(seed: seed ?? 0).validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func options(seed: UInt64) -> ScenarioOptions {
        var options = ScenarioOptions(
            ScenarioName(rawValue: scenario)!, seed: seed, nodes: nodes, loss: loss, envelopes: envelopes,
            segments: segments, duplicate: duplicate, lifetime: lifetime, bound: bound, relays: relays,
            crashes: crashes)
        options.relayChain = relayChain
        options.store = store
        options.rejoinHolds = rejoinHolds
        options.rangeSummaries = rangeSummaries
        return options
    }

    func run() throws {
        if let seeds {
            try sweep(seeds)
            return
        }
        let options = options(seed: seed ?? UInt64.random(in: .min ... .max))
        let clock = ContinuousClock()
        let started = clock.now
        let result = try options.run()
        let wall = started.duration(to: clock.now)
        for (key, value) in result.metrics.lines {
            print("\(key): \(value)")
        }
        print("wall_ms: \(wall.components.seconds * 1000 + wall.components.attoseconds / 1_000_000_000_000_000)")
        if let failure = result.failure {
            print("failure: \(failure.reason)")
            printError(failure.description)
            throw ExitCode.failure
        }
    }

    private func sweep(_ count: Int) throws {
        // SplitMix64, so `--seeds K --seed S` lists the same K seeds every time.
        var rng = SplitMix64(seed: seed ?? UInt64.random(in: .min ... .max))
        var failed = 0
        // Per run, the envelope transmissions per envelope on its busiest segment.
        var worstSegment: [Double] = []
        for i in 0..<count {
            let options = options(seed: rng.next())
            let result = try options.run()
            let metrics = result.metrics
            let perEnvelope = metrics.envelopeTransmissions.map { $0 / Double(max(1, metrics.envelopes)) }
            worstSegment.append(perEnvelope.max() ?? 0)
            let tx = "envelope_tx_per_envelope \(fixed(perEnvelope.max() ?? 0))"
            if let failure = result.failure {
                failed += 1
                print("seed \(options.seed): FAILED: \(failure.reason), \(tx)")
                printError(failure.description)
            } else {
                let convergence = metrics.convergenceMillis.map { "\($0)" } ?? "none"
                print("seed \(options.seed): ok (\(i + 1)/\(count)), convergence_ms \(convergence), \(tx)")
            }
        }
        print("seeds: \(count)")
        print("failed: \(failed)")
        let sorted = worstSegment.sorted()
        print("envelope_tx_per_envelope.mean: \(fixed(sorted.reduce(0, +) / Double(sorted.count)))")
        print("envelope_tx_per_envelope.median: \(fixed(sorted[sorted.count / 2]))")
        print("envelope_tx_per_envelope.max: \(fixed(sorted.last!))")
        print("envelope_tx_per_envelope.at_most_1.5: \(sorted.filter { $0 <= 1.5 }.count)")
        if failed > 0 { throw ExitCode.failure }
    }
}

let scenarioList = ScenarioName.allCases.map(\.rawValue).joined(separator: ", ")

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { bytes in
            _ = bytes.withUnsafeBytes { raw in
                #if canImport(Glibc)
                    Glibc.write(2, raw.baseAddress, raw.count)
                #else
                    Darwin.write(2, raw.baseAddress, raw.count)
                #endif
            }
        }
    }
}
