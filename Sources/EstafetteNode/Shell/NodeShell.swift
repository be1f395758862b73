import EstafetteCore
import Logging

/// The daemon's shell around one `MeshNode` (SWIM's word: the link between the I/O and the pure instance). It
/// feeds the node its inputs (datagrams, due timers, interface changes, local messages) with the wall clock and a
/// lookup of the store, and interprets the actions the node returns: datagrams to the LAN transport, envelopes to
/// the commit queue, timers to its own table. It makes no protocol decision of its own; see
/// docs/architecture.md.
///
/// Its parts: `NodeShell+Operations` (what the API asks of the node: sends, status), `NodeShell+Commit` (group commit and
/// notifications), `CommitQueue`, `NodeService` (the LAN supervisor and the clock that drive it).
public actor NodeShell {
    var node: MeshNode
    let store: Store
    let config: NodeConfig
    let hub = NotificationHub()
    let logger: Logger
    private(set) var transport: LANTransport?
    private var timers: [MeshNode.Timer: Millis] = [:]
    /// The shell's own counters (commits, waits for the disk), reported with the node's by `node.status`.
    var counters = Counters()
    /// Counters of the API server's connections (refusals, bad requests), bumped from outside the actor.
    public nonisolated let apiCounters = LockedCounters()
    var commits = CommitQueue()
    /// Stored bytes and the clock warning (NodeShell+Bounds.swift).
    var bounds = ShellBounds()
    /// Senders' keys of new messages, validated once, for notifications.
    var senderKeys = KeyCache()
    let startedAt: Millis
    public nonisolated let identityID: PublicID

    public init(identity: SigningKeyPair, meshKey: MeshKey, store: Store, config: NodeConfig, logger: Logger) throws {
        var node = MeshNode(
            identity: identity, meshKey: meshKey, session: Sodium.randomUInt64(), seed: Sodium.randomUInt64(),
            settings: config.meshSettings)
        let now = wallClockMillis()
        // Room for every stored ID at once: growing the table while loading would hold two tables at the peak.
        node.reserveEnvelopes(try store.envelopeCount())
        try store.forEachEnvelope { id, expiresAt in node.load(id, expiresAt: expiresAt, now: now) }
        let me = identity.publicKey.bytes
        node.resumeAlerts(
            after: try store.lastAlertSequence(author: me), createdAt: try store.lastAlertCreatedAt(author: me))
        try Self.loadChannels(from: store, into: &node)
        let receiptHorizon = Int64(now / 1000) - Int64(Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds)
        for s in try store.awaitingReceipts(expiredAfter: receiptHorizon) {
            node.awaitReceipt(for: s.id, from: s.recipient, expiresAt: s.expiresAt, now: now)
        }
        self.node = node
        self.store = store
        self.config = config
        self.logger = logger
        self.startedAt = now
        self.identityID = PublicID(key: identity.publicKey)
        self.bounds.storedBytes = try store.envelopeBytes()
    }

    // MARK: - Inputs

    /// The LAN transport to send on (nil while no interface is usable); the node learns how many interfaces it
    /// has.
    func attach(_ transport: LANTransport?) {
        self.transport = transport
        node.interfacesChanged(count: transport?.pathCount ?? 0)
    }

    func start() {
        perform(node.start(now: wallClockMillis()))
    }

    /// Fires the timers that are due.
    func tick() {
        let now = wallClockMillis()
        let due = timers.filter { $0.value <= now }.map(\.key)
        for t in due {
            timers[t] = nil
            perform(node.timerFired(t, now: now, store: lookup))
        }
    }

    func receive(_ d: InboundDatagram) {
        perform(node.receive(d.bytes, from: d.from, now: wallClockMillis(), store: lookup))
        checkClock()
    }

    /// `receive`, then `waitForRoomInQueue`, in one call (one hop onto the actor per datagram instead of two).
    func receiveThenWaitForRoom(_ d: InboundDatagram) async {
        receive(d)
        await waitForRoomInQueue()
    }

    /// Where envelopes committed as new are pushed live to relay links (set by `attachRelays`).
    var relayOutlet: (@Sendable ([(id: EnvelopeID, origin: Int?)]) -> Void)?
    /// The relay links' counters, merged into `node.status`.
    var relayCounters: (@Sendable () -> [String: Int64])?

    /// The store as the node reads it: what is queued for commit, then the database.
    var lookup: StoreLookup {
        StoreLookup(queued: commits.pending, store: store, logger: logger)
    }

    // MARK: - Carrying out actions

    /// Carries out actions in order. Stores are queued for the next group commit. Multicasts are handed to the
    /// transport together at the end, in order (one hop to the socket and one flush for the lot).
    func perform(_ actions: [MeshNode.Action]) {
        var datagrams: [(bytes: [UInt8], except: Int?)] = []
        defer { if !datagrams.isEmpty { transport?.multicast(datagrams) } }
        for action in actions {
            switch action {
            case .multicast(let bytes, let except):
                datagrams.append((bytes, except))
            case .store(let e, let message):
                commits.append(
                    CommitQueue.Write(envelope: e, message: message, receivedAt: wallClockMillis() / 1000, ticket: nil))
            case .deleteExpired(let upTo):
                do {
                    let n = try store.deleteExpired(upTo: upTo)
                    if n > 0 { logger.debug("expired envelopes deleted", metadata: ["count": "\(n)"]) }
                } catch {
                    logger.error("cannot delete expired envelopes", metadata: ["error": "\(error)"])
                }
                sweepBounds(nowSeconds: Int64(clamping: upTo))
            case .scheduleTimer(let t, let at):
                timers[t] = at
            }
        }
    }
}

/// The daemon's `EnvelopeLookup`: envelopes still queued for commit, then the database. A database error is
/// logged and reads as "not stored" (the node counts the envelopes it could not find).
struct StoreLookup: EnvelopeLookup {
    let queued: [CommitQueue.Write]
    let store: Store
    let logger: Logger

    func envelopes(_ ids: [EnvelopeID]) -> [StoredEnvelope] {
        var found: [EnvelopeID: StoredEnvelope] = [:]
        if !queued.isEmpty {
            let wanted = Set(ids)
            for w in queued where wanted.contains(w.envelope.id) { found[w.envelope.id] = w.envelope }
        }
        do {
            return Array(found.values) + (try store.envelopes(ids.filter { found[$0] == nil }))
        } catch {
            logger.error("cannot load envelopes", metadata: ["error": "\(error)"])
            return Array(found.values)
        }
    }
}
