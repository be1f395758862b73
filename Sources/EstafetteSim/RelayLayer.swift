import EstafetteCore

/// The relays of a run and the links that join them to each other and to the islands' gateways (`RelayPlan`):
/// their state, kept by `Simulation` next to its nodes (the events are in `Simulation+Relays`).
struct RelayLayer {
    /// One end of a link: a relay, or a gateway node of an island.
    enum End: Sendable, Equatable {
        case relay(Int)
        case node(Int)
    }

    /// What a link's end does when a shell answers it (after the store's delay).
    enum Answer: Sendable {
        case snapshot
        case fetch([EnvelopeID])
        case settle(sequence: UInt64, [UInt8])
    }

    enum Event: Sendable {
        case connect(link: Int)
        case bytes(link: Int, epoch: Int, toInitiator: Bool, [UInt8])
        case answer(link: Int, epoch: Int, initiator: Bool, Answer)
        case timer(link: Int, epoch: Int, initiator: Bool, code: Int, generation: UInt32)
        case crash(Int)
        case restart(Int)
    }

    /// One link: the initiator links out (a gateway, or relay `i` to relay `i + 1`), the responder is a relay.
    struct Link {
        let initiatorEnd: End
        let responder: Int
        /// Bumped at every close: events of an earlier connection are ignored.
        var epoch = 0
        var initiator: RelayLinkStateMachine?
        var responderMachine: RelayLinkStateMachine?
        var backoff: RelayBackoff
        /// A connection attempt is scheduled.
        var connectPending = false
        /// The virtual time the last byte sent each way arrives (index 1: towards the initiator): a stream keeps
        /// its order even when a short record follows a long one.
        var lastArrival: [Millis] = [0, 0]
        var timerGenerations: [UInt32] = Array(repeating: 0, count: 8)

        var isRelayLink: Bool {
            if case .relay = initiatorEnd { return true }
            return false
        }
    }

    let plan: RelayPlan
    let identities: [SigningKeyPair]
    var links: [Link] = []
    /// The committed store of each relay (a crash keeps it).
    var stores: [[EnvelopeID: StoredEnvelope]]
    var up: [Bool]
    /// Links by end.
    var linksOfRelay: [[Int]]
    var linksOfNode: [Int: [Int]] = [:]
    /// Crash and restart events not yet processed: the run has not settled before they are.
    var pendingFaults: Int
    var rng: SplitMix64
    var metrics = RelayMetrics()

    init(plan: RelayPlan, seed: UInt64) {
        self.plan = plan
        identities = (0..<plan.relays).map { r in
            var keys = SplitMix64.stream(seed ^ UInt64(r), 2_000)
            return SigningKeyPair.deterministic(keys.next())
        }
        stores = Array(repeating: [:], count: plan.relays)
        up = Array(repeating: true, count: plan.relays)
        linksOfRelay = Array(repeating: [], count: plan.relays)
        rng = SplitMix64.stream(seed, 5)
        pendingFaults = 2 * plan.crashes.count
        let backoff = RelayBackoff(initialMillis: plan.backoffInitialMillis, maxMillis: plan.backoffMaxMillis)
        for (a, b) in plan.relayPairs {
            linksOfRelay[a].append(links.count)
            linksOfRelay[b].append(links.count)
            links.append(Link(initiatorEnd: .relay(a), responder: b, backoff: backoff))
        }
        metrics.relayLinks = links.count
        for g in plan.gateways {
            linksOfRelay[g.relay].append(links.count)
            linksOfNode[g.node, default: []].append(links.count)
            links.append(Link(initiatorEnd: .node(g.node), responder: g.relay, backoff: backoff))
        }
        metrics.gatewayLinks = plan.gateways.count
        metrics.relays = plan.relays
        metrics.crashes = plan.crashes.count
    }

    /// The end of link `l` on one side.
    func end(_ l: Int, initiator: Bool) -> End {
        initiator ? links[l].initiatorEnd : .relay(links[l].responder)
    }

    func isUp(_ end: End) -> Bool {
        switch end {
        case .relay(let r): return up[r]
        case .node: return true
        }
    }

    /// Timers as small numbers, for their generations.
    static func code(_ timer: RelayLinkStateMachine.Timer) -> Int {
        switch timer {
        case .handshake: return 0
        case .keepalive: return 1
        case .idle: return 2
        case .resync: return 3
        }
    }

    static let timers: [RelayLinkStateMachine.Timer] = [.handshake, .keepalive, .idle, .resync]

    /// The records of what relay `r` holds unexpired.
    func records(relay r: Int, now: Millis) -> [NegentropyRecord] {
        let nowSeconds = UInt64(max(0, now / 1000))
        return stores[r].values.compactMap { e in
            e.expiresAt > nowSeconds ? NegentropyRecord(timestamp: e.expiresAt, id: e.id) : nil
        }
    }

    /// Drops both machines of link `l`, counting what they carried.
    mutating func close(_ l: Int) {
        let relayLink = links[l].isRelayLink
        for m in [links[l].initiator, links[l].responderMachine].compactMap({ $0 }) {
            metrics.add(m.stats, relayLink: relayLink)
            metrics.syncRounds += m.role == .initiator ? m.stats.syncRounds : 0
        }
        links[l].initiator = nil
        links[l].responderMachine = nil
        links[l].epoch += 1
        links[l].lastArrival = [0, 0]
    }

    /// Adds what the links still open carried (at the end of a run).
    func finished() -> RelayMetrics {
        var out = metrics
        for link in links {
            for m in [link.initiator, link.responderMachine].compactMap({ $0 }) {
                out.add(m.stats, relayLink: link.isRelayLink)
                out.syncRounds += m.role == .initiator ? m.stats.syncRounds : 0
            }
        }
        return out
    }
}
