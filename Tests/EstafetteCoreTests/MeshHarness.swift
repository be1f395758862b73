@testable import EstafetteCore

/// Runs a few `MeshNode`s in-process on one LAN segment (interface 0): it carries out their actions, routing
/// `.multicast` to every other present node and executing `.store` into an in-memory store, which is the lookup
/// passed with each event. Beacon, interval and sweep timers are fired by the test; repair timers by
/// `advance(by:)` (and `fireBeacons()`).
struct MeshHarness {
    struct Stored: Equatable {
        let envelope: StoredEnvelope
        let message: ReceivedMessage?
    }

    struct Delivery {
        let from: Int
        let to: Int
        let datagram: [UInt8]
    }

    static let interface = 0

    var nodes: [MeshNode]
    let addresses: [PeerAddress]
    /// Nodes that neither send nor receive (out of range).
    var absent: Set<Int> = []
    var now: Millis
    /// Each node's store, as its `.store` and `.deleteExpired` actions leave it.
    private(set) var stores: [[EnvelopeID: StoredEnvelope]]
    /// Every `.store` each node asked for, in order.
    private(set) var storeLog: [[Stored]]
    /// Every action each node returned, in order.
    private(set) var actionLog: [[MeshNode.Action]]
    /// Every datagram delivered, in order.
    private(set) var delivered: [Delivery] = []
    private var queue: [Delivery] = []
    /// Repair timers each node asked for.
    private var repairAt: [Millis?]

    /// - Parameter fundedAnswers: each node starts with a full answer budget (`MeshNode.answers`) for every other
    ///   one, as if they had been talking for a while; false for tests of the budget itself.
    init(
        identities: [SigningKeyPair], now: Millis = Fixture.now, settings: MeshNode.Settings = .init(),
        fundedAnswers: Bool = true
    ) {
        self.nodes = identities.enumerated().map { i, identity in
            MeshNode(
                identity: identity, meshKey: .publicDefault, session: 0x5E55_0000 + UInt64(i), seed: UInt64(i),
                settings: settings)
        }
        self.addresses = identities.indices.map {
            PeerAddress(host: "192.168.1.\(10 + $0)", port: 4_747, interface: Self.interface)
        }
        self.now = now
        self.stores = Array(repeating: [:], count: identities.count)
        self.storeLog = Array(repeating: [], count: identities.count)
        self.actionLog = Array(repeating: [], count: identities.count)
        self.repairAt = Array(repeating: nil, count: identities.count)
        if fundedAnswers {
            for i in nodes.indices {
                nodes[i].repair.answers = AnswerCredit(cap: .infinity, lifetime: .max)
                for j in nodes.indices where j != i {
                    nodes[i].repair.answers.deposit(.infinity, to: addresses[j].source, now: now)
                }
            }
        }
    }

    // MARK: - Inputs

    /// Node `i` submits an envelope; everything that follows is run to quiescence.
    @discardableResult
    mutating func submit(_ envelope: Envelope, at i: Int) throws -> [MeshNode.Action] {
        let actions = try nodes[i].submit(envelope, now: now).actions
        execute(actions, at: i)
        run()
        return actions
    }

    /// Node `i` accepts an envelope made there and stores it, but sends nothing (as if the others missed it).
    mutating func keep(_ envelope: Envelope, at i: Int) throws {
        let submission = try nodes[i].submit(envelope, now: now)
        stores[i][submission.envelope.id] = submission.envelope
    }

    /// Fires the beacon timer of every present node, runs to quiescence, then lets the repair it starts finish
    /// (a few repair windows of virtual time).
    mutating func fireBeacons() {
        for i in nodes.indices where !absent.contains(i) {
            execute(nodes[i].timerFired(.beacon, now: now), at: i)
        }
        run()
        advance(by: 4 * MeshNode.Settings().repairWindowMillis)
    }

    /// Moves virtual time forward, firing due repair timers in time order and delivering what they send.
    mutating func advance(by millis: Millis) {
        let end = now + millis
        while true {
            let due = repairAt.indices.filter { !absent.contains($0) }.compactMap { i in repairAt[i].map { (i, $0) } }
                .filter { $0.1 <= end }.min { $0.1 < $1.1 }
            guard let (i, at) = due else { break }
            now = max(now, at)
            repairAt[i] = nil
            execute(nodes[i].timerFired(.repair, now: now, store: stores[i]), at: i)
            run()
        }
        now = end
    }

    /// Delivers one datagram to node `to` as if it came from node `from`, without running the rest; returns the
    /// actions (which are carried out, so their datagrams are queued).
    @discardableResult
    mutating func deliver(_ datagram: [UInt8], from: Int, to: Int) -> [MeshNode.Action] {
        delivered.append(Delivery(from: from, to: to, datagram: datagram))
        let actions = nodes[to].receive(datagram, from: addresses[from], now: now, store: stores[to])
        execute(actions, at: to)
        return actions
    }

    /// Delivers queued datagrams until none are left.
    mutating func run() {
        var steps = 0
        while !queue.isEmpty {
            steps += 1
            precondition(steps < 100_000, "mesh did not quiesce: \(queue.count) datagrams queued")
            let d = queue.removeFirst()
            guard !absent.contains(d.from), !absent.contains(d.to) else { continue }
            deliver(d.datagram, from: d.from, to: d.to)
        }
    }

    // MARK: - Shell

    mutating func execute(_ actions: [MeshNode.Action], at i: Int) {
        actionLog[i] += actions
        for action in actions {
            switch action {
            case .multicast(let datagram, let except):
                guard except != Self.interface else { continue }
                for j in nodes.indices where j != i {
                    queue.append(Delivery(from: i, to: j, datagram: datagram))
                }
            case .store(let stored, let message):
                stores[i][stored.id] = stored
                storeLog[i].append(Stored(envelope: stored, message: message))
            case .deleteExpired(let upTo):
                stores[i] = stores[i].filter { $0.value.expiresAt > upTo }
            case .scheduleTimer(.repair, let at):
                repairAt[i] = at
            case .scheduleTimer:
                break  // the test fires beacon, interval and sweep timers itself
            }
        }
    }

    // MARK: - Queries

    func storedIDs(_ i: Int) -> [EnvelopeID] { storeLog[i].map(\.envelope.id) }

    func messages(_ i: Int) -> [ReceivedMessage] { storeLog[i].compactMap(\.message) }
}
