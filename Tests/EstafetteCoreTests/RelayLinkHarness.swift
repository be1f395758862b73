@testable import EstafetteCore

/// Two `RelayLinkStateMachine`s joined by an in-memory pipe, each with an in-memory store: the shell's part
/// played by hand. `.deliver` is validated by decoding the envelope (expired or malformed is refused) and
/// settled at once, or held until `settleHeld()` when `deferSettlement` is set.
struct RelayLinkHarness {
    enum Side: Hashable { case initiator, responder }

    var initiator: RelayLinkStateMachine
    var responder: RelayLinkStateMachine
    var stores: [Side: [EnvelopeID: StoredEnvelope]] = [.initiator: [:], .responder: [:]]
    var now: Millis = Fixture.now
    var deferSettlement = false
    var held: [Side: [UInt64]] = [.initiator: [], .responder: []]
    var closed: [Side: RelayLinkError?] = [:]
    var timers: [Side: [RelayLinkStateMachine.Timer: Millis]] = [.initiator: [:], .responder: [:]]
    var syncCompleted: [Side: Int] = [.initiator: 0, .responder: 0]
    /// Bytes each side wrote, in order.
    var wire: [Side: [UInt8]] = [.initiator: [], .responder: []]
    /// Work in order: bytes in flight and the shell's answers, which a real shell gives later, never inside
    /// the call that asked (answering at once would interleave sends out of nonce order).
    private enum Work {
        case bytes(Side, [UInt8])
        case snapshot(Side)
        case fetch(Side, [EnvelopeID])
        case settle(Side, UInt64)
    }
    private var inbox: [Work] = []
    private var inboxHead = 0

    static let relayIdentity = Fixture.carol

    init(
        settings: RelayLinkSettings = .init(), pin: SigningPublicKey = relayIdentity.publicKey,
        allowed: Set<[UInt8]> = [], linkKey: NoiseKeyPair = NoiseKeyPair.generate()
    ) {
        initiator = try! RelayLinkStateMachine(
            initiatorWithLinkKey: linkKey, relay: pin, localRole: .node, settings: settings)
        responder = RelayLinkStateMachine(
            responderWithIdentity: Self.relayIdentity, allowedLinkKeys: allowed, settings: settings)
    }

    /// A valid channel envelope expiring `expiresIn` seconds from now, with `n` making it unique.
    static func envelope(_ n: Int, expiresIn: UInt64 = 3600) -> StoredEnvelope {
        let e = Envelope(
            kind: .channel, expiresAt: Fixture.nowSeconds + expiresIn, body: Array("envelope \(n)".utf8))
        let bytes = e.encoded()
        return StoredEnvelope(id: EnvelopeID(ofEncoded: bytes), kind: .channel, expiresAt: e.expiresAt, bytes: bytes)
    }

    mutating func add(_ envelopes: [StoredEnvelope], to side: Side) {
        for e in envelopes { stores[side]![e.id] = e }
    }

    /// Opens the connection on both sides and runs until nothing moves.
    mutating func connect() {
        apply(.responder, responder.start(now: now))
        apply(.initiator, initiator.start(now: now))
        run()
    }

    /// Delivers bytes in flight and answers requests until nothing is left.
    mutating func run(limit: Int = 10_000_000) {
        var steps = 0
        while inboxHead < inbox.count && steps < limit {
            let work = inbox[inboxHead]
            inboxHead += 1
            steps += 1
            switch work {
            case .bytes(let to, let bytes):
                guard closed[to] == nil else { continue }
                apply(to, to == .initiator ? initiator.receive(bytes, now: now) : responder.receive(bytes, now: now))
            case .snapshot(let side):
                let records = stores[side]!.values.filter { $0.expiresAt > UInt64(now / 1000) }
                    .map { NegentropyRecord(timestamp: $0.expiresAt, id: $0.id) }
                apply(
                    side,
                    side == .initiator ? initiator.snapshot(records, now: now) : responder.snapshot(records, now: now))
            case .fetch(let side, let ids):
                let found = ids.compactMap { stores[side]![$0] }
                apply(
                    side, side == .initiator ? initiator.fetched(found, now: now) : responder.fetched(found, now: now))
            case .settle(let side, let sequence):
                settle(side, sequence)
            }
        }
        if inboxHead == inbox.count {
            inbox.removeAll()
            inboxHead = 0
        }
    }

    /// Settles every held envelope, in order.
    mutating func settleHeld() {
        for side in [Side.initiator, .responder] {
            let seqs = held[side]!
            held[side] = []
            for s in seqs { inbox.append(.settle(side, s)) }
        }
        run()
    }

    mutating func offer(_ e: StoredEnvelope, on side: Side) {
        stores[side]![e.id] = e
        apply(side, side == .initiator ? initiator.offer(e.id, now: now) : responder.offer(e.id, now: now))
        run()
    }

    mutating func fire(_ timer: RelayLinkStateMachine.Timer, on side: Side) {
        apply(side, side == .initiator ? initiator.timerFired(timer, now: now) : responder.timerFired(timer, now: now))
        run()
    }

    mutating func peerClosed(_ side: Side) {
        apply(side, side == .initiator ? initiator.peerClosed(now: now) : responder.peerClosed(now: now))
    }

    /// Bytes from outside, straight into one side.
    mutating func inject(_ bytes: [UInt8], into side: Side) {
        apply(side, side == .initiator ? initiator.receive(bytes, now: now) : responder.receive(bytes, now: now))
    }

    /// Bytes a side sent that have not been delivered yet are dropped (a test that feeds the other side itself).
    mutating func dropInFlight() {
        inbox.removeAll()
        inboxHead = 0
    }

    private var pendingDeliveries: [Side: [UInt64: [UInt8]]] = [.initiator: [:], .responder: [:]]

    mutating func apply(_ side: Side, _ actions: [RelayLinkStateMachine.Action]) {
        let other: Side = side == .initiator ? .responder : .initiator
        for action in actions {
            switch action {
            case .send(let bytes):
                wire[side]!.append(contentsOf: bytes)
                inbox.append(.bytes(other, bytes))
            case .scheduleTimer(let t, let at):
                timers[side]![t] = at
            case .established:
                break
            case .requestSnapshot:
                inbox.append(.snapshot(side))
            case .fetch(let ids):
                inbox.append(.fetch(side, ids))
            case .deliver(let bytes, let sequence):
                pendingDeliveries[side]![sequence] = bytes
                if deferSettlement { held[side]!.append(sequence) } else { inbox.append(.settle(side, sequence)) }
            case .syncCompleted:
                syncCompleted[side]! += 1
            case .close(let error):
                closed[side] = .some(error)
            }
        }
    }

    private mutating func settle(_ side: Side, _ sequence: UInt64) {
        guard let bytes = pendingDeliveries[side]!.removeValue(forKey: sequence) else { return }
        let result: RelayLinkStateMachine.Settlement
        if let e = try? Envelope(decoding: bytes), e.expiresAt > UInt64(now / 1000) {
            let id = EnvelopeID(ofEncoded: bytes)
            if stores[side]![id] == nil {
                stores[side]![id] = StoredEnvelope(id: id, kind: e.kind, expiresAt: e.expiresAt, bytes: bytes)
                result = .committedNew
            } else {
                result = .duplicate
            }
        } else {
            result = .refused
        }
        let next =
            side == .initiator
            ? initiator.settled(sequence: sequence, result, now: now)
            : responder.settled(sequence: sequence, result, now: now)
        apply(side, next)
    }
}
