import EstafetteCore

/// Relays joining the LAN segments of a run (islands): relays linked to each other in a chain or a ring, and on
/// each island one gateway node linked to one relay. Every link runs the real `RelayLinkStateMachine` on both
/// ends; a gateway is an ordinary `MeshNode` whose shell, as the daemon's, pushes every envelope it stores to its
/// link and hands what the link delivers to `MeshNode.receiveFromLink` (which stores it and gossips it on the
/// LAN). A relay stands for a relay daemon's store: what a link delivers is committed `commitDelayMillis` later,
/// and a crash in between loses it.
public struct RelayPlan: Sendable {
    /// A gateway node and the relay it links to.
    public struct Gateway: Sendable, Equatable {
        public let node: Int
        public let relay: Int

        public init(node: Int, relay: Int) {
            self.node = node
            self.relay = relay
        }
    }

    /// A relay that crashes at `at` (losing what it had not committed, and every link) and is back `downMillis`
    /// later.
    public struct Crash: Sendable, Equatable {
        public let relay: Int
        public let at: Millis
        public let downMillis: Millis

        public init(relay: Int, at: Millis, downMillis: Millis) {
            self.relay = relay
            self.at = at
            self.downMillis = downMillis
        }
    }

    public var relays: Int
    /// Relay `i` links to relay `i + 1`; with `ring`, the last one to the first too.
    public var ring: Bool
    public var gateways: [Gateway]
    public var crashes: [Crash] = []
    /// One-way latency of a link; serialisation at 100 Mbit/s comes on top.
    public var latencyMillis: Millis = 20
    /// Between a link's delivery and its commit at a relay or a gateway.
    public var commitDelayMillis: Millis = 5
    /// Reconnection backoff of the side that links out (the daemon's defaults).
    public var backoffInitialMillis: Millis = 1_000
    public var backoffMaxMillis: Millis = 60_000
    public var linkSettings = RelayLinkSettings()

    public init(relays: Int, ring: Bool, gateways: [Gateway]) {
        precondition(relays >= 1, "a relay plan needs a relay")
        precondition(gateways.allSatisfy { (0..<relays).contains($0.relay) }, "a gateway links to a missing relay")
        self.relays = relays
        self.ring = ring
        self.gateways = gateways
    }

    /// The relay-to-relay pairs, initiator first.
    var relayPairs: [(Int, Int)] {
        let count = relays - (ring && relays > 2 ? 0 : 1)
        return (0..<max(0, count)).map { ($0, ($0 + 1) % relays) }
    }

    /// When the last relay comes back.
    var lastReturn: Millis? { crashes.map { $0.at + $0.downMillis }.max() }
}

/// What the relay links carried in a run.
public struct RelayMetrics: Sendable, Equatable {
    public var relays = 0
    public var gatewayLinks = 0
    public var relayLinks = 0
    /// Bytes sent on relay-to-relay links and on gateway links, both directions, every connection.
    public var relayLinkBytes = 0
    public var gatewayLinkBytes = 0
    /// Envelope records sent on all links.
    public var envelopeRecords = 0
    public var negentropyBytes = 0
    public var syncRounds = 0
    public var crashes = 0
    /// Connections made (the first ones included) and attempts refused because an end was down.
    public var connections = 0
    public var refusedAttempts = 0
    /// Link closes other than by a crash (timeouts, protocol errors).
    public var closedByMachine = 0
    /// Envelopes a relay lost because it crashed before committing them.
    public var uncommittedLost = 0

    mutating func add(_ stats: RelayLinkStateMachine.Stats, relayLink: Bool) {
        if relayLink {
            relayLinkBytes += stats.bytesOut
        } else {
            gatewayLinkBytes += stats.bytesOut
        }
        envelopeRecords += stats.envelopeRecordsOut
        negentropyBytes += stats.negentropyBytes
    }

    func lines(envelopes: Int) -> [(key: String, value: String)] {
        let m = Double(max(1, envelopes))
        return [
            ("relay.relays", "\(relays)"), ("relay.relay_links", "\(relayLinks)"),
            ("relay.gateway_links", "\(gatewayLinks)"), ("relay.crashes", "\(crashes)"),
            ("relay.connections", "\(connections)"), ("relay.refused_attempts", "\(refusedAttempts)"),
            ("relay.closed_by_machine", "\(closedByMachine)"), ("relay.uncommitted_lost", "\(uncommittedLost)"),
            ("relay.sync_rounds", "\(syncRounds)"), ("relay.envelope_records", "\(envelopeRecords)"),
            ("relay.negentropy_bytes", "\(negentropyBytes)"),
            ("relay.relay_link_bytes", "\(relayLinkBytes)"), ("relay.gateway_link_bytes", "\(gatewayLinkBytes)"),
            ("relay.bytes_per_envelope", fixed(Double(relayLinkBytes + gatewayLinkBytes) / m)),
            ("relay.relay_link_bytes_per_envelope", fixed(Double(relayLinkBytes) / m)),
            ("relay.gateway_link_bytes_per_envelope", fixed(Double(gatewayLinkBytes) / m)),
            ("relay.records_per_envelope", fixed(Double(envelopeRecords) / m)),
        ]
    }
}
