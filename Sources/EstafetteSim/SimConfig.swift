import EstafetteCore

/// Everything one run depends on. The same configuration (same seed) gives the same run, event for event.
public struct SimConfig: Sendable {
    /// The virtual clock starts here (Unix milliseconds, in 2027), not at zero, so expiry arithmetic looks real.
    public static let epoch: Millis = 1_800_000_000_000

    public var name: String
    public var seed: UInt64
    public var topology: Topology
    public var link: LinkModel
    /// Partition changes, in time order.
    public var faults: [FaultChange] = []
    public var injections: [Injection] = []
    /// Relays joining the segments (islands), with their links and crashes; nil for LANs alone.
    public var relays: RelayPlan?
    /// Nodes boot at a random time in `epoch...epoch + bootSpreadMillis`, so their timers are not in lock-step.
    public var bootSpreadMillis: Millis = 2_000
    /// The run fails when it has not converged this long after `settleFrom`.
    public var convergenceBoundMillis: Millis = 60_000
    /// How long to keep running after convergence (to let sweeps run before the end checks).
    public var tailMillis: Millis = 0
    /// Expired envelopes may linger this long before a node's sweep removes them; the end check allows it.
    public var sweepSlackMillis: Millis = 120_000
    /// Checks made at the end of the run, besides the invariants every run keeps.
    public var endChecks: [EndCheck] = []
    /// The command line that replays this run, printed with every failure.
    public var replayCommand: String
    /// The protocol's settings: the daemon's defaults, made by the same core initialiser as the daemon's
    /// (`NodeConfig.meshSettings`), so the simulator runs the daemon's protocol.
    public var settings = MeshNode.Settings()
    public var meshKey = MeshKey.publicDefault
    /// Envelope IDs every node holds from the start (loaded with `MeshNode.load`, as a daemon loads its store;
    /// never asked for, so they have no bytes): a large store without gossiping it.
    public var preloadShared = 0

    public init(name: String, seed: UInt64, topology: Topology, link: LinkModel, replayCommand: String) {
        self.name = name
        self.seed = seed
        self.topology = topology
        self.link = link
        self.replayCommand = replayCommand
    }

    public var nodeCount: Int { topology.nodeCount }

    /// Convergence is measured from the later of the last injection and the last partition change (a relay's
    /// crash and return are not counted here, but the run does not converge before the last relay is back).
    public var settleFrom: Millis {
        max(
            injections.map(\.at).max() ?? Self.epoch, faults.map(\.at).max() ?? Self.epoch,
            Self.epoch + bootSpreadMillis)
    }

    /// The identity of node `node` in a run with this seed (alerts are signed with it).
    public static func identity(seed: UInt64, node: Int) -> SigningKeyPair {
        var rng = SplitMix64.stream(seed ^ UInt64(node), 1_000)
        return SigningKeyPair.deterministic(rng.next())
    }
}

/// A check made once the run is over.
public enum EndCheck: Sendable, Equatable {
    /// No node ever held more than this many envelopes at once.
    case peakEnvelopesAtMost(Int)
    /// No node ever held more than this many bytes of partial envelopes.
    case reassemblyBytesAtMost(Int)
    /// No node ever knew more than this many peers.
    case peersAtMost(Int)
    /// `node` never stored any envelope that expired at or before `expiredBy` (Unix ms): nothing is resurrected.
    case neverStoredExpired(node: Int, expiredBy: Millis)
}

/// Why a run failed, with the seed and the command that replays it.
public struct SimFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public let scenario: String
    public let seed: UInt64
    /// Virtual time of the failure, in ms since the start of the run.
    public let atMillis: Millis
    public let replayCommand: String

    public var description: String {
        "\(scenario) seed \(seed) failed at t=\(formatMillis(atMillis)): \(reason)\nreplay: \(replayCommand)"
    }
}

/// `12.345s`.
func formatMillis(_ ms: Millis) -> String {
    let sign = ms < 0 ? "-" : ""
    let a = abs(ms)
    let frac = String(a % 1000)
    return "\(sign)\(a / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)s"
}
