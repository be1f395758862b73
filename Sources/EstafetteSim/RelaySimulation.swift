import EstafetteCore

/// Relays joined by links that run the real `RelayLinkStateMachine`, on a virtual clock: the relay layer of a
/// city of islands. Each relay stands for its island (envelopes sent on the island reach its relay by LAN
/// gossip, which `Simulation` covers), links join the relays in a chain or a ring, relays crash (losing what they
/// had not committed, and their links) and come back, and links reconnect after a backoff.
///
/// Stores: an envelope a link delivers is committed `commitDelayMillis` later (then acknowledged); a crash in
/// between loses it, as a real crash loses an uncommitted write. Reports the virtual time until every relay holds
/// every envelope, and the link bytes per envelope carried.
public struct RelaySimulation {
    public struct Config: Sendable {
        public var relays = 5
        public var ring = true
        public var envelopes = 2_000
        /// Injections spread over this long, each at a random relay.
        public var injectOverMillis: Int64 = 60_000
        /// One-way latency of a link.
        public var latencyMillis: Int64 = 20
        public var commitDelayMillis: Int64 = 5
        /// Crashes, each of a random relay at a random time during the injections, down for `downMillis`.
        public var crashes = 3
        public var downMillis: Int64 = 10_000
        public var reconnectMillis: Int64 = 1_000
        public var seed: UInt64 = 1
        public init() {}
    }

    public struct Report: Sendable {
        /// Virtual milliseconds from the first injection until every relay held every envelope (nil: never).
        public var convergedAfterMillis: Int64?
        public var linkBytes: Int
        public var envelopeRecords: Int
        public var bytesPerEnvelopeCarried: Double
        public var reconciliationRounds: Int
        public var crashes: Int
    }

    enum Event {
        case bytes(link: Int, epoch: Int, toInitiator: Bool, [UInt8])
        case answer(link: Int, epoch: Int, initiator: Bool, Answer)
        case timer(link: Int, epoch: Int, initiator: Bool, RelayLinkStateMachine.Timer)
        case inject(relay: Int, envelope: Int)
        case crash(Int)
        case restart(Int)
        case connect(link: Int)
    }

    enum Answer {
        case snapshot
        case fetch([EnvelopeID])
        case settle(UInt64, [UInt8])
    }

    struct Link {
        let a: Int
        let b: Int
        var epoch = 0
        var initiator: RelayLinkStateMachine?
        var responder: RelayLinkStateMachine?
    }

    let config: Config
    let identities: [SigningKeyPair]
    var links: [Link] = []
    var stores: [[EnvelopeID: StoredEnvelope]]
    var up: [Bool]
    var envelopes: [StoredEnvelope] = []
    var queue = EventQueue<Event>()
    var rng: SplitMix64
    var now: Millis = 1_704_067_200_000
    var linkBytes = 0
    var records = 0
    var rounds = 0
    var injected = 0

    public init(_ config: Config) {
        self.config = config
        rng = SplitMix64(seed: config.seed)
        identities = (0..<config.relays).map { SigningKeyPair.deterministic(10_000 + UInt64($0)) }
        stores = Array(repeating: [:], count: config.relays)
        up = Array(repeating: true, count: config.relays)
        let pairs = config.relays - (config.ring && config.relays > 2 ? 0 : 1)
        for i in 0..<pairs { links.append(Link(a: i, b: (i + 1) % config.relays)) }
    }

    public mutating func run() -> Report {
        let start = now
        for i in 0..<config.envelopes {
            let e = Envelope(
                kind: .channel, expiresAt: UInt64(now / 1000) + 86_400,
                body: (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let bytes = e.encoded()
            envelopes.append(
                StoredEnvelope(id: EnvelopeID(ofEncoded: bytes), kind: .channel, expiresAt: e.expiresAt, bytes: bytes))
            let at = now + Int64.random(in: 0...config.injectOverMillis, using: &rng)
            queue.push(.inject(relay: Int.random(in: 0..<config.relays, using: &rng), envelope: i), at: at)
        }
        for c in 0..<config.crashes {
            let at = now + Int64.random(in: 0...config.injectOverMillis, using: &rng)
            let relay = (c + Int.random(in: 0..<config.relays, using: &rng)) % config.relays
            queue.push(.crash(relay), at: at)
        }
        for l in links.indices { queue.push(.connect(link: l), at: now) }
        var converged: Int64?
        let deadline = now + config.injectOverMillis + 3_600_000
        while let (t, event) = queue.pop(), t <= deadline {
            now = t
            handle(event)
            if injected == config.envelopes && converged == nil && up.allSatisfy({ $0 })
                && stores.allSatisfy({ $0.count == config.envelopes })
            {
                converged = now - start
                break
            }
        }
        for l in links {
            linkBytes += (l.initiator?.stats.bytesOut ?? 0) + (l.responder?.stats.bytesOut ?? 0)
            records += (l.initiator?.stats.envelopeRecordsOut ?? 0) + (l.responder?.stats.envelopeRecordsOut ?? 0)
        }
        return Report(
            convergedAfterMillis: converged, linkBytes: linkBytes, envelopeRecords: records,
            bytesPerEnvelopeCarried: Double(linkBytes) / Double(max(1, config.envelopes)), reconciliationRounds: rounds,
            crashes: config.crashes)
    }
}
