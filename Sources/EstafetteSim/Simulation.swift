import EstafetteCore

/// N real `MeshNode`s on a virtual clock and a seeded, lossy, partitionable network: the shell that carries out
/// their actions, with no sockets, no wall clock and no threads. One seed drives every random choice (node
/// sessions, loss, delay, duplication, boot times), so a run replays event for event.
///
/// The loop pops the earliest event (ties broken by the order they were scheduled), hands it to the node it is
/// for, carries out the actions the node returns, and checks the invariants on the way (see `+Checks`).
public struct Simulation {
    enum Event: Sendable {
        case boot(node: Int)
        case deliver(to: Int32, toInterface: Int16, from: Int32, fromInterface: Int16, datagram: [UInt8])
        case timer(node: Int32, timer: Int32, generation: UInt32)
        case inject(Int)
        case fault(Int)
        case expire(Int)
        /// Relay links and relays (`Simulation+Relays`).
        indirect case relay(RelayLayer.Event)
    }

    public let config: SimConfig
    var nodes: [MeshNode]
    var queue = EventQueue<Event>()
    /// Loss, delay and duplication draws.
    var net: SplitMix64
    public private(set) var now: Millis
    var trace = TraceHash()
    var booted: [Bool]
    var hostNames: [String]
    /// Current partition: the group of each node, or nil when all can hear each other.
    var groups: [Int]?

    // Timers: each distinct `MeshNode.Timer` gets a small number in order of first use (deterministic), and each
    // (node, timer) a generation, so a rescheduled timer's earlier event is ignored when it comes due.
    var timerNumbers: [MeshNode.Timer: Int] = [:]
    var timers: [MeshNode.Timer] = []
    var timerGenerations: [[UInt32]]

    // The store each node's `.store` / `.deleteExpired` actions leave, over the injected envelopes (anything else
    // stored is a failure). `storeState[node * m + e]`: 0 never stored, 1 held, 2 stored then deleted.
    let envelopeCount: Int
    var envelopeIndex: [EnvelopeID: Int] = [:]
    var storeState: [UInt8]
    var heldList: [[Int]]
    var delivered: [Bool]
    /// How many nodes hold each envelope, and whether it is injected and unexpired.
    var holders: [Int]
    var live: [Bool]
    /// Σ over live envelopes of the nodes that lack them: converged when zero.
    var missing = 0
    var injected = 0
    var faultsApplied = 0

    /// The relays and their links, when the run has a `RelayPlan`.
    var relayLayer: RelayLayer?
    /// The link an envelope being stored came from (it is not pushed back there).
    var linkOrigin: Int?

    var metrics: Metrics
    var failure: SimFailure?
    public private(set) var convergedAt: Millis?
    var endAt: Millis?

    public init(_ config: SimConfig) {
        self.config = config
        let n = config.nodeCount
        var seeds = SplitMix64.stream(config.seed, 1)
        self.nodes = (0..<n).map { i in
            var node = MeshNode(
                identity: SimConfig.identity(seed: config.seed, node: i), meshKey: config.meshKey,
                session: seeds.next(), seed: seeds.next(), settings: config.settings)
            node.interfacesChanged(count: config.topology.interfaces[i].count)
            return node
        }
        if config.preloadShared > 0 {
            var ids = SplitMix64.stream(config.seed, 7)
            let shared = (0..<config.preloadShared).map { _ in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(32)
                for _ in 0..<4 { withUnsafeBytes(of: ids.next()) { bytes.append(contentsOf: $0) } }
                return EnvelopeID(bytes: bytes)
            }
            let expiresAt = UInt64(SimConfig.epoch / 1000) + Envelope.maxLifetimeSeconds
            for i in nodes.indices {
                nodes[i].reserveEnvelopes(shared.count)
                for id in shared { nodes[i].load(id, expiresAt: expiresAt, now: SimConfig.epoch) }
            }
        }
        self.net = SplitMix64.stream(config.seed, 3)
        self.now = SimConfig.epoch
        self.booted = Array(repeating: false, count: n)
        self.hostNames = (0..<n).map { "n\($0)" }
        self.timerGenerations = Array(repeating: [], count: n)
        self.envelopeCount = config.injections.count
        self.storeState = Array(repeating: 0, count: n * envelopeCount)
        self.heldList = Array(repeating: [], count: n)
        self.delivered = Array(repeating: false, count: n * envelopeCount)
        self.holders = Array(repeating: 0, count: envelopeCount)
        self.live = Array(repeating: false, count: envelopeCount)
        self.metrics = Metrics(config: config)
        for (e, injection) in config.injections.enumerated() {
            let earlier = envelopeIndex.updateValue(e, forKey: injection.id)
            precondition(earlier == nil, "workload injects envelope \(e) twice")
            precondition((0..<n).contains(injection.node), "injection \(e) at a node that does not exist")
        }

        // Partitions first, so one that starts at the epoch is in place before any node boots.
        for (k, change) in config.faults.enumerated() {
            queue.push(.fault(k), at: change.at)
        }
        var boots = SplitMix64.stream(config.seed, 4)
        for i in 0..<n {
            queue.push(.boot(node: i), at: SimConfig.epoch + boots.millis(in: 0...config.bootSpreadMillis))
        }
        for (e, injection) in config.injections.enumerated() {
            queue.push(.inject(e), at: injection.at)
        }
        if let plan = config.relays {
            precondition(plan.gateways.allSatisfy { (0..<n).contains($0.node) }, "a gateway that does not exist")
            relayLayer = RelayLayer(plan: plan, seed: config.seed)
            scheduleRelays()
        }
    }

    // MARK: - Running

    /// Runs until every node holds every unexpired envelope (then `tailMillis` more), an invariant fails, or the
    /// convergence bound passes.
    public mutating func run() -> SimResult {
        let settleFrom = config.settleFrom
        let deadline = settleFrom + config.convergenceBoundMillis
        while failure == nil, let next = queue.nextTime {
            if let endAt, next > endAt {
                now = endAt
                break
            }
            if endAt == nil, next > deadline {
                now = deadline
                break
            }
            step()
        }
        if failure == nil, convergedAt == nil {
            fail(
                "not converged within \(formatMillis(config.convergenceBoundMillis)) of virtual time after "
                    + "t=\(formatMillis(settleFrom - SimConfig.epoch)): \(describeMissing())")
        }
        if failure == nil { checkEnd() }
        var finished = metrics
        finished.finish(sim: self, settleFrom: settleFrom)
        metrics = finished
        return SimResult(metrics: metrics, failure: failure)
    }

    /// Processes every event due at or before `time` (virtual Unix ms), then stops with the clock at `time`, so a
    /// test can look at the nodes mid-run. Returns the failure, if an invariant failed. `run()` carries on.
    @discardableResult
    public mutating func run(until time: Millis) -> SimFailure? {
        while failure == nil, let next = queue.nextTime, next <= time {
            step()
        }
        if failure == nil { now = max(now, time) }
        return failure
    }

    /// Processes the next event, then notes convergence.
    mutating func step() {
        guard let (time, event) = queue.pop() else { return }
        now = time
        process(event)
        guard failure == nil, convergedAt == nil, missing == 0, now >= config.settleFrom, injected == envelopeCount,
            faultsApplied == config.faults.count, (relayLayer?.pendingFaults ?? 0) == 0
        else { return }
        convergedAt = now
        endAt = now + config.tailMillis
        checkConverged()
    }

    mutating func process(_ event: Event) {
        metrics.events += 1
        switch event {
        case .boot(let n):
            trace.add(time: now, kind: .boot, node: n, aux: 0)
            booted[n] = true
            execute(nodes[n].start(now: now), at: n)
            notePeak(n)
        case .deliver(let to32, let toInterface, let from32, let fromInterface, let datagram):
            let to = Int(to32)
            guard booted[to] else {
                metrics.notRunning += 1
                return
            }
            metrics.deliveries += 1
            trace.add(time: now, kind: .deliver, node: to, aux: UInt64(datagram.count) | UInt64(from32) << 16)
            let from = PeerAddress(host: hostNames[Int(from32)], port: Int(fromInterface), interface: Int(toInterface))
            let actions: [MeshNode.Action]
            do {
                // The store lookup reads a snapshot of the store (copy-on-write: nothing is copied, and the
                // snapshot is gone before the actions change the store).
                let store = StoreView(sim: self, node: to)
                actions = nodes[to].receive(datagram, from: from, now: now, store: store)
            }
            execute(actions, at: to)
            notePeak(to)
        case .timer(let n32, let t32, let generation):
            let n = Int(n32)
            let t = Int(t32)
            guard timerGenerations[n][t] == generation else { return }  // rescheduled since
            trace.add(time: now, kind: .timer, node: n, aux: UInt64(t))
            let actions: [MeshNode.Action]
            do {
                let store = StoreView(sim: self, node: n)
                actions = nodes[n].timerFired(timers[t], now: now, store: store)
            }
            execute(actions, at: n)
            notePeak(n)
        case .inject(let e):
            let injection = config.injections[e]
            trace.add(time: now, kind: .inject, node: injection.node, aux: UInt64(e))
            injected += 1
            live[e] = true
            missing += nodes.count - holders[e]
            queue.push(.expire(e), at: max(now, Millis(injection.expiresAt) * 1000))
            do {
                execute(try nodes[injection.node].submit(injection.envelope, now: now).actions, at: injection.node)
            } catch {
                fail("node n\(injection.node) refused injected envelope #\(e): \(error.reason)")
            }
            notePeak(injection.node)
        case .fault(let k):
            trace.add(time: now, kind: .fault, node: 0, aux: UInt64(k))
            groups = config.faults[k].groups
            faultsApplied += 1
        case .relay(let relayEvent):
            process(relayEvent)
        case .expire(let e):
            trace.add(time: now, kind: .expire, node: 0, aux: UInt64(e))
            if live[e] {
                live[e] = false
                missing -= nodes.count - holders[e]
            }
        }
    }

    mutating func notePeak(_ n: Int) {
        metrics.notePeak(n, nodes[n].stateSize)
    }

    mutating func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = SimFailure(
            reason: reason, scenario: config.name, seed: config.seed, atMillis: now - SimConfig.epoch,
            replayCommand: config.replayCommand)
    }

    // MARK: - Queries (for tests)

    /// Whether node `node` ever stored injected envelope `envelope`.
    public func everStored(node: Int, envelope: Int) -> Bool {
        storeState[node * envelopeCount + envelope] != 0
    }

    /// Whether node `node`'s store holds injected envelope `envelope` now.
    public func holds(node: Int, envelope: Int) -> Bool {
        storeState[node * envelopeCount + envelope] == 1
    }

    /// The protocol instance of one node, for its counters and state.
    public func node(_ i: Int) -> MeshNode { nodes[i] }

    public var traceHash: TraceHash { trace }
}

/// The outcome of one run.
public struct SimResult: Sendable {
    public let metrics: Metrics
    /// The first invariant that failed, or why the run did not converge; nil when it passed.
    public let failure: SimFailure?

    public var passed: Bool { failure == nil }
}
