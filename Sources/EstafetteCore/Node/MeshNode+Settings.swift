extension MeshNode {
    /// The protocol's parameters. What a deployment may tune (the daemon's `lan.beacon_interval_ms` and
    /// `lan.repair_interval_ms`) is an argument of `init`; the rest is fixed or derived from those here, so that
    /// the daemon (`NodeConfig.meshSettings`) and the simulator (`SimConfig.settings`), given the same arguments,
    /// run the same protocol.
    public struct Settings: Sendable, Equatable {
        public static let defaultBeaconIntervalMillis: Int64 = 1_000
        public static let defaultRepairIntervalMillis: Int64 = 4_000
        public static let defaultMaxPeers = 2_048

        /// Trickle's minimum interval.
        public var beaconIntervalMillis: Int64
        /// Trickle's maximum interval is the minimum doubled this many times.
        public var beaconDoublings = 4
        /// Trickle's redundancy constant k.
        public var redundancy = 2
        /// Random delays for inventories and wants are drawn from [0, repairWindow).
        public var repairWindowMillis: Int64 = 400
        /// A node starts a repair round (its inventory) at most this often, and not within this long of an
        /// inventory from a node holding at least as much.
        public var repairIntervalMillis: Int64
        public var sweepIntervalMillis: Int64 = 60_000
        /// Inventory pages multicast per repair round.
        public var inventoryPagesPerRound = 32
        /// Bound on queued wants (prefixes).
        public var maxPendingWants = 8_192
        public var reassembly = Reassembler.Settings()
        /// Envelope and byte budgets per source, alert limits per author (DataGuards.swift).
        public var data = DataGuards.Settings()
        /// Most peers (sessions) tracked; the daemon's `lan.max_peers`.
        public var maxPeers = defaultMaxPeers
        /// Most peers tracked from one source address: a new session from a source at this bound replaces its
        /// least recently heard one (a restarted daemon), so one host spraying sessions never crowds out others.
        public var maxPeersPerSource = 16
        /// Bytes a node may send in answer to a source (inventories, repair bursts) per byte of its requests:
        /// under the 10× amplification bound, with room for what the budget carries over.
        public var answerBytesPerByte = 6.0
        /// Whether a repair round of a store larger than one page is one range summary (count and fingerprint of
        /// 16 sub-ranges), each node descending only into the sub-ranges where it differs, instead of pages of the
        /// whole store (docs/protocol.md, "Range summaries"): a catch-up then costs what the difference costs.
        /// Off by default: the live attack suite's want-amplification tool learns a target's prefixes from the
        /// inventory pages a disagreeing beacon provokes, and with summaries there are none (docs/decisions.md).
        public var rangeSummaries = false
        /// Whether direct messages that reach the inbox are acknowledged with a delivery receipt (the daemon's
        /// `messages.receipts`, on by default).
        public var sendsReceipts = true

        public init(
            beaconIntervalMillis: Int64 = defaultBeaconIntervalMillis,
            repairIntervalMillis: Int64 = defaultRepairIntervalMillis
        ) {
            self.beaconIntervalMillis = beaconIntervalMillis
            self.repairIntervalMillis = repairIntervalMillis
        }

        /// Trickle's maximum interval.
        var maxIntervalMillis: Int64 { beaconIntervalMillis << Int64(beaconDoublings) }

        /// A peer not heard from for this long is forgotten. A quiet mesh beacons at least once per maximum
        /// interval, so three of those (48 s by default), and never less than 30 s.
        public var peerTimeoutMillis: Int64 { max(30_000, 3 * maxIntervalMillis) }

        /// A node whose beacon claims more than we hold must send its inventory within this long of our deferring
        /// to it (our beacon, its suppression delay, and slack), or its claims are ignored for a while.
        var claimDeadlineMillis: Int64 { 2 * beaconIntervalMillis + 2 * repairWindowMillis }

        /// Our inventory, once due, is deferred to other nodes' claims at most this long: then the sources that
        /// deferred it are distrusted and it goes out.
        var maxDeferralMillis: Int64 { 2 * repairIntervalMillis }
    }
}
