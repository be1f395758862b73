import EstafetteCore

extension ScenarioOptions {
    /// Builds the run these options describe. Everything random comes from the seed.
    public func makeConfig() throws(ScenarioError) -> SimConfig {
        try validate()
        let n = resolvedNodes
        let topology: Topology
        if scenario == .islands {
            topology = Self.islands(nodes: n, islands: resolvedSegments)
        } else {
            topology = resolvedSegments > 1 ? .chain(nodes: n, segments: resolvedSegments) : .oneSegment(nodes: n)
        }
        var config = SimConfig(
            name: scenario.rawValue, seed: seed, topology: topology,
            link: LinkModel(loss: resolvedLoss, duplicate: duplicate ?? 0.01), replayCommand: replayCommand)
        config.convergenceBoundMillis = Millis(bound ?? 60) * 1000
        config.settings.rangeSummaries = rangeSummaries
        var workload = Workload(seed: seed)
        let lifetime = UInt64(resolvedLifetime)
        let start = SimConfig.epoch + config.bootSpreadMillis + 1_000

        switch scenario {
        case .lossyLAN:
            for _ in 0..<resolvedEnvelopes {
                let at = start + workload.rng.millis(in: 0...10_000)
                workload.add(at: at, node: workload.rng.int(in: 0...(n - 1)), lifetime: lifetime)
            }

        case .partitionHeal:
            let half = n / 2
            let groups = (0..<n).map { $0 < half ? 0 : 1 }
            for k in 0..<resolvedEnvelopes {
                let at = start + workload.rng.millis(in: 0...10_000)
                let node = k % 2 == 0 ? workload.rng.int(in: 0...(half - 1)) : workload.rng.int(in: half...(n - 1))
                workload.add(at: at, node: node, lifetime: lifetime)
            }
            config.faults = [
                FaultChange(at: SimConfig.epoch, groups: groups),
                FaultChange(at: start + 30_000, groups: nil),
            ]

        case .absentNode:
            // Node 0 hears nothing (and is heard by nobody) for a day. A quarter of the envelopes come before it
            // leaves; the rest while it is away, half of them with a one-hour lifetime, so most of those expire
            // before it returns and must never reach it.
            let away = start + 20_000
            let back = away + 86_400_000
            let before = max(1, resolvedEnvelopes / 4)
            for k in 0..<resolvedEnvelopes {
                if k < before {
                    let at = start + workload.rng.millis(in: 0...10_000)
                    workload.add(at: at, node: workload.rng.int(in: 0...(n - 1)), lifetime: lifetime)
                } else {
                    let at = away + 10_000 + workload.rng.millis(in: 0...(86_400_000 - 20_000))
                    let node = workload.rng.int(in: 1...(n - 1))
                    workload.add(at: at, node: node, lifetime: k % 2 == 0 ? 3_600 : lifetime)
                }
            }
            config.faults = [
                FaultChange(at: away, groups: [1] + Array(repeating: 0, count: n - 1)),
                FaultChange(at: back, groups: nil),
            ]
            config.tailMillis = 180_000
            config.endChecks = [.neverStoredExpired(node: 0, expiredBy: back)]

        case .flood:
            // A steady stream over four lifetimes: what a node holds must follow rate × lifetime, not the total.
            let durationMillis = Millis(4 * resolvedLifetime) * 1000
            let m = resolvedEnvelopes
            for k in 0..<m {
                let at = start + Millis(k) * durationMillis / Millis(m)
                workload.add(at: at, node: workload.rng.int(in: 0...(n - 1)), lifetime: lifetime)
            }
            config.endChecks = [
                .peakEnvelopesAtMost(floodEnvelopeBound),
                .reassemblyBytesAtMost(config.settings.reassembly.maxTotalBytes),
                .peersAtMost(n - 1),
            ]

        case .islands:
            // In time order, so an author's alerts are posted in the order of their sequence numbers (a node is
            // not shown an alert older than one it has shown from the same author).
            let window = 0...Self.islandsInjectMillis
            let times = (0..<resolvedEnvelopes).map { _ in start + workload.rng.millis(in: window) }
            for at in times.sorted() {
                workload.add(at: at, node: workload.rng.int(in: 0...(n - 1)), lifetime: lifetime)
            }
            config.relays = islandRelays(topology: topology, start: start)
            config.convergenceBoundMillis = Millis(bound ?? 120) * 1000

        case .rejoin:
            // Node 0 is away (hears nothing, heard by nobody) while the new envelopes are posted, at node 0 or at
            // the others; everyone holds the preloaded store. It rejoins 20 s later: convergence and the bytes
            // are counted from then.
            config.preloadShared = resolvedStore
            let back = start + 20_000
            // Channel envelopes only: repair brings them in any order, and an author's alerts would then be stored
            // without being shown (an older one after a newer), which the checks count as a failure.
            for _ in 0..<resolvedEnvelopes {
                let at = start + workload.rng.millis(in: 0...10_000)
                let node = rejoinHolds ? 0 : workload.rng.int(in: 1...(n - 1))
                workload.builder.channel(at: at, node: node, lifetimeSeconds: lifetime)
            }
            config.faults = [
                FaultChange(at: SimConfig.epoch, groups: [1] + Array(repeating: 0, count: n - 1)),
                FaultChange(at: back, groups: nil),
            ]
            config.convergenceBoundMillis = Millis(bound ?? 300) * 1000
        }
        config.injections = workload.builder.injections
        return config
    }

    /// For islands: injections are spread over this long.
    static let islandsInjectMillis: Millis = 30_000

    /// Islands: node `i` of `n` is on island `i * islands / n`, so islands differ by one node at most.
    static func islands(nodes n: Int, islands: Int) -> Topology {
        Topology(interfaces: (0..<n).map { [$0 * islands / n] })
    }

    /// The relays of the islands scenario: a ring (or a chain); the first node of island `s` is its gateway, linked to relay
    /// `s % relays`; each crash takes a random relay down for 10 s at a random time while envelopes are injected.
    func islandRelays(topology: Topology, start: Millis) -> RelayPlan {
        let relays = resolvedRelays
        let gateways = topology.members.enumerated().map { s, members in
            RelayPlan.Gateway(node: members[0].node, relay: s % relays)
        }
        var plan = RelayPlan(relays: relays, ring: !relayChain, gateways: gateways)
        var draws = SplitMix64.stream(seed, 6)
        let down: Millis = 10_000
        plan.crashes = (0..<resolvedCrashes).map { _ in
            let relay = draws.int(in: 0...(relays - 1))
            let at = start + draws.millis(in: 0...(Self.islandsInjectMillis - down))
            return RelayPlan.Crash(relay: relay, at: at, downMillis: down)
        }
        return plan
    }

    /// For `flood`: the most envelopes one node may hold at once. At rate r an envelope lives `lifetime` seconds
    /// and lingers until the next sweep (at most a minute); allow another minute and 20 envelopes of margin.
    public var floodEnvelopeBound: Int {
        let seconds = Double(4 * resolvedLifetime)
        let rate = Double(resolvedEnvelopes) / seconds
        return Int((rate * Double(resolvedLifetime + 120)).rounded(.up)) + 20
    }

    /// Builds and runs the scenario.
    public func run() throws(ScenarioError) -> SimResult {
        var simulation = Simulation(try makeConfig())
        return simulation.run()
    }
}

/// The workload of a scenario: one envelope in ten is a signed alert, the rest channel envelopes.
struct Workload {
    var builder: WorkloadBuilder
    private var authors: [Int: SigningKeyPair] = [:]
    private let seed: UInt64
    private var added = 0

    init(seed: UInt64) {
        self.builder = WorkloadBuilder(seed: seed)
        self.seed = seed
    }

    var rng: SplitMix64 {
        get { builder.rng }
        set { builder.rng = newValue }
    }

    mutating func add(at: Millis, node: Int, lifetime: UInt64) {
        defer { added += 1 }
        guard added % 10 == 0 else {
            builder.channel(at: at, node: node, lifetimeSeconds: lifetime)
            return
        }
        let author = authors[node] ?? SimConfig.identity(seed: seed, node: node)
        authors[node] = author
        builder.alert(at: at, node: node, author: author, lifetimeSeconds: lifetime)
    }
}
