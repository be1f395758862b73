import EstafetteCore

/// The named scenarios. Each is `(seed, nodes, faults, workload)`; a run of one is replayed from its options.
public enum ScenarioName: String, CaseIterable, Sendable {
    /// Every node on lossy LANs; envelopes injected at random nodes over 10 s.
    case lossyLAN = "lossy-lan"
    /// Two halves that cannot hear each other receive different envelopes, then the partition heals.
    case partitionHeal = "partition-heal"
    /// Node 0 is partitioned away for a simulated day while envelopes, some short-lived, are injected elsewhere.
    case absentNode = "absent-node"
    /// Envelopes with a short lifetime injected steadily for four lifetimes; memory per node must stay bounded.
    case flood
    /// Islands (LAN segments, 20 nodes each by default) whose gateways link to relays in a ring; relays crash and
    /// return while envelopes are injected at random nodes on random islands.
    case islands
    /// Nodes on one LAN all hold the same large store (`--store`, preloaded, not gossiped); node 0 is away while
    /// `--envelopes` more are posted elsewhere (or, with `--rejoin-holds`, at node 0 only), then rejoins. What the
    /// catch-up costs in protocol bytes is the `protocol_bytes_after_settle` line (issue 11).
    case rejoin
}

/// A scenario's options, as the `estafette-sim` command takes them; nil means the scenario's default.
public struct ScenarioOptions: Sendable, Equatable {
    public var scenario: ScenarioName
    public var seed: UInt64
    public var nodes: Int?
    public var loss: Double?
    public var envelopes: Int?
    public var segments: Int?
    public var duplicate: Double?
    /// Envelope lifetime in seconds (for absent-node: the long-lived envelopes').
    public var lifetime: Int?
    /// Seconds of virtual time allowed for convergence after the last injection or partition change.
    public var bound: Int?
    /// For islands: relays in the ring, and relay crashes.
    public var relays: Int?
    public var crashes: Int?
    /// For islands: the relays in a chain rather than a ring.
    public var relayChain = false
    /// For rejoin: envelopes every node holds before the run (default 100,000).
    public var store: Int?
    /// For rejoin: node 0 holds the new envelopes and the others lack them (rather than the reverse).
    public var rejoinHolds = false
    /// `MeshNode.Settings.rangeSummaries` (off by default, as in the daemon).
    public var rangeSummaries = false

    public init(
        _ scenario: ScenarioName, seed: UInt64, nodes: Int? = nil, loss: Double? = nil, envelopes: Int? = nil,
        segments: Int? = nil, duplicate: Double? = nil, lifetime: Int? = nil, bound: Int? = nil,
        relays: Int? = nil, crashes: Int? = nil
    ) {
        self.scenario = scenario
        self.seed = seed
        self.nodes = nodes
        self.loss = loss
        self.envelopes = envelopes
        self.segments = segments
        self.duplicate = duplicate
        self.lifetime = lifetime
        self.bound = bound
        self.relays = relays
        self.crashes = crashes
    }

    struct Defaults {
        var nodes: Int
        var loss: Double
        var envelopes: Int
        var lifetime: Int
    }

    var defaults: Defaults {
        switch scenario {
        case .lossyLAN: return Defaults(nodes: 200, loss: 0.2, envelopes: 50, lifetime: 3_600)
        case .partitionHeal: return Defaults(nodes: 200, loss: 0.05, envelopes: 40, lifetime: 3_600)
        case .absentNode: return Defaults(nodes: 8, loss: 0.05, envelopes: 40, lifetime: 2 * 86_400)
        case .flood: return Defaults(nodes: 10, loss: 0.05, envelopes: 1_200, lifetime: 600)
        case .islands: return Defaults(nodes: 1_000, loss: 0.05, envelopes: 200, lifetime: 3_600)
        case .rejoin: return Defaults(nodes: 10, loss: 0, envelopes: 100, lifetime: 3_600)
        }
    }

    public var resolvedNodes: Int { nodes ?? defaults.nodes }
    public var resolvedLoss: Double { loss ?? defaults.loss }
    public var resolvedEnvelopes: Int { envelopes ?? defaults.envelopes }
    public var resolvedLifetime: Int { lifetime ?? defaults.lifetime }
    /// Segments; for islands, one per 20 nodes (at most 50) unless given.
    public var resolvedSegments: Int {
        segments ?? (scenario == .islands ? max(1, min(50, resolvedNodes / 20)) : 1)
    }
    public var resolvedRelays: Int { relays ?? 5 }
    public var resolvedCrashes: Int { crashes ?? 3 }
    public var resolvedStore: Int { store ?? 100_000 }

    /// The command that replays this run exactly (at the same commit).
    public var replayCommand: String {
        var parts = [
            "swift run -c release estafette-sim", "--scenario \(scenario.rawValue)", "--nodes \(resolvedNodes)",
            "--loss \(resolvedLoss)", "--envelopes \(resolvedEnvelopes)",
        ]
        if let segments { parts.append("--segments \(segments)") }
        if let duplicate { parts.append("--duplicate \(duplicate)") }
        if let lifetime { parts.append("--lifetime \(lifetime)") }
        if let bound { parts.append("--bound \(bound)") }
        if let relays { parts.append("--relays \(relays)") }
        if let crashes { parts.append("--crashes \(crashes)") }
        if relayChain { parts.append("--relay-chain") }
        if let store { parts.append("--store \(store)") }
        if rejoinHolds { parts.append("--rejoin-holds") }
        if rangeSummaries { parts.append("--range-summaries") }
        parts.append("--seed \(seed)")
        return parts.joined(separator: " ")
    }

    /// Checks the options make sense; the message says which does not.
    public func validate() throws(ScenarioError) {
        guard resolvedNodes >= 2 else { throw ScenarioError("--nodes must be at least 2") }
        guard (0...1).contains(resolvedLoss), resolvedLoss < 1 else { throw ScenarioError("--loss must be in 0..<1") }
        guard (0...1).contains(duplicate ?? 0) else { throw ScenarioError("--duplicate must be in 0...1") }
        guard resolvedEnvelopes >= 1 else { throw ScenarioError("--envelopes must be at least 1") }
        guard (1...resolvedNodes).contains(segments ?? 1) else {
            throw ScenarioError("--segments must be between 1 and the number of nodes")
        }
        guard (60...Int(Envelope.maxLifetimeSeconds)).contains(resolvedLifetime) else {
            throw ScenarioError("--lifetime must be between 60 and \(Envelope.maxLifetimeSeconds) seconds")
        }
        if scenario == .absentNode, resolvedLifetime <= 86_400 {
            throw ScenarioError(
                "absent-node needs --lifetime above a day (86400), so the long-lived envelopes outlive the absence")
        }
        guard (bound ?? 1) >= 1 else { throw ScenarioError("--bound must be at least 1 second") }
        if scenario == .islands {
            guard resolvedNodes / resolvedSegments >= 2 else {
                throw ScenarioError("islands needs at least 2 nodes per island (--nodes / --segments)")
            }
            guard (1...100).contains(resolvedRelays) else { throw ScenarioError("--relays must be in 1...100") }
            guard (0...1_000).contains(resolvedCrashes) else { throw ScenarioError("--crashes must be in 0...1000") }
        } else if relays != nil || crashes != nil || relayChain {
            throw ScenarioError("--relays, --crashes and --relay-chain are for the islands scenario")
        }
        if scenario == .rejoin {
            guard (0...2_000_000).contains(resolvedStore) else { throw ScenarioError("--store must be in 0...2000000") }
        } else if store != nil || rejoinHolds {
            throw ScenarioError("--store and --rejoin-holds are for the rejoin scenario")
        }
    }
}

public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
