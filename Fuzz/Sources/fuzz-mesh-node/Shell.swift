@_spi(Fuzzing) import EstafetteCore
import FuzzSupport

/// What a daemon's shell does with a node's actions (a store, timers, multicast), with the checks that every
/// action is sound.
struct Shell {
    var node: MeshNode
    let settings: MeshNode.Settings
    var now: Millis
    var timers: [MeshNode.Timer: Millis] = [:]
    var store: [EnvelopeID: StoredEnvelope] = [:]
    /// Sessions the node heard from (its own excluded): a bound on its peers.
    var sessions: Set<UInt64> = []
    /// Every this-many stores fails, and the shell says so (0: none fails).
    let failEvery: Int
    var stores = 0
    var sent = 0

    static let key = MeshKey.publicDefault

    mutating func receive(_ datagram: [UInt8], from session: UInt64?) {
        if let session, session != node.session { sessions.insert(session) }
        let address = PeerAddress(host: "10.0.0.\(session.map { $0 % 250 } ?? 0)", port: 4545, interface: 0)
        perform(node.receive(datagram, from: address, now: now, store: store))
    }

    mutating func perform(_ actions: [MeshNode.Action]) {
        var failed: [EnvelopeID] = []
        for action in actions {
            switch action {
            case .multicast(let datagram, _):
                checkSent(datagram)
            case .store(let e, let message):
                fuzzCheck(store[e.id] == nil, "envelope \(e.id) stored twice")
                fuzzCheck(EnvelopeID(ofEncoded: e.bytes) == e.id, "stored envelope does not hash to its ID")
                let envelope = try? Envelope(decoding: e.bytes)
                fuzzCheck(envelope?.expiresAt == e.expiresAt && envelope?.kind == e.kind, "stored envelope mismatch")
                fuzzCheck(e.expiresAt > UInt64(now / 1000), "stored an expired envelope")
                if let message {
                    let genuine = Pool.byID[e.id]
                    fuzzCheck(genuine?.text != nil, "delivered a message that no genuine sender made: \(message)")
                    fuzzCheck(message.text == genuine?.text && message.id == e.id, "delivered message altered")
                }
                stores += 1
                if failEvery > 0, stores % failEvery == 0 { failed.append(e.id) } else { store[e.id] = e }
            case .deleteExpired(let upTo):
                store = store.filter { $0.value.expiresAt > upTo }
            case .scheduleTimer(let timer, let at):
                timers[timer] = at
            }
        }
        for id in failed { node.storeFailed(id) }
        checkState()
    }

    /// Moves the clock to `until`, firing the timers that fall due on the way, in order.
    mutating func advance(to until: Millis) {
        var fired = 0
        while let (timer, at) = nextTimer(dueBy: until) {
            timers[timer] = nil
            now = max(now, at)
            perform(node.timerFired(timer, now: now, store: store))
            fired += 1
            fuzzCheck(fired < 100_000, "timers keep firing without the clock moving on (at \(now))")
        }
        now = max(now, until)
    }

    /// The clock jumps to `until` (a suspended machine wakes, the wall clock is set): each timer that fell due
    /// fires once, late.
    mutating func jump(to until: Millis) {
        now = max(now, until)
        for timer in Self.timerOrder {
            guard let at = timers[timer], at <= now else { continue }
            timers[timer] = nil
            perform(node.timerFired(timer, now: now, store: store))
        }
    }

    static let timerOrder: [MeshNode.Timer] = [.sweep, .interval, .beacon, .repair]

    func nextTimer(dueBy until: Millis) -> (MeshNode.Timer, Millis)? {
        var best: (MeshNode.Timer, Millis)? = nil
        for timer in Self.timerOrder {
            if let at = timers[timer], at <= until, best.map({ at < $0.1 }) ?? true { best = (timer, at) }
        }
        return best
    }

    /// A datagram the node sends: one that any node accepts.
    mutating func checkSent(_ datagram: [UInt8]) {
        sent += 1
        fuzzCheck(datagram.count <= Packet.maxDatagramBytes, "sent a datagram of \(datagram.count) bytes")
        guard let (session, _) = try? Self.key.open(datagram) else {
            fuzzCheck(false, "sent a datagram that does not open")
            return
        }
        fuzzCheck(session == node.session, "sent under session \(session)")
    }

    /// The node's state is bounded and agrees with the store.
    func checkState() {
        let size = node.stateSize
        let r = settings.reassembly
        fuzzCheck(size.reassemblyBytes <= r.maxTotalBytes, "\(size.reassemblyBytes) bytes in reassembly")
        fuzzCheck((size.reassemblyBytes == 0) == (size.partialEnvelopes == 0), "reassembly accounting: \(size)")
        fuzzCheck(size.peers <= sessions.count, "\(size.peers) peers from \(sessions.count) sessions")
        fuzzCheck(
            size.partialEnvelopes <= max(1, sessions.count) * r.maxStreamsPerSource, "\(size.partialEnvelopes) partials")
        fuzzCheck(size.pendingRepairs <= 2 * settings.maxPendingWants + 64 + 1, "pending repairs: \(size)")
        fuzzCheck(size.envelopes == store.count, "node holds \(size.envelopes) envelopes, the store \(store.count)")
        for id in store.keys { fuzzCheck(node.holds(id), "stored envelope \(id) not held by the node") }
    }
}
