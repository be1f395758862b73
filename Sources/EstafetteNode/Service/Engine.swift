import EstafetteAPI
import EstafetteCore
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

#if os(Linux)
    /// glibc's `malloc_trim` (declared in <malloc.h>, which the Glibc module does not export).
    @_silgen_name("malloc_trim")
    private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Wall clock in milliseconds since the Unix epoch.
func wallClockMillis() -> Millis {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// The shell around one `MeshNode`: feeds it inputs and carries out its actions against the store, the LAN
/// transport and API subscribers. It makes no protocol decisions of its own.
public actor Engine {
    private var node: MeshNode
    let store: Store
    let config: NodeConfig
    let hub = SubscriberHub()
    let logger: Logger
    private var transport: LANTransport?
    private var timers: [MeshNode.Timer: Millis] = [:]
    private var counters = Counters()
    private var nextAlertSequence: UInt64
    /// Recipients' keys, validated and converted once.
    private var keys = KeyCache()
    /// Writes waiting for the next group commit, in order.
    private var pending: [PendingWrite] = []
    /// LAN readers waiting for the commit queue to drain.
    private var roomWaiters: [CheckedContinuation<Void, Never>] = []
    /// Wakes the flusher when writes are queued (coalesced).
    private let kick: AsyncStream<Void>.Continuation
    let kicks: AsyncStream<Void>
    let startedAt: Millis
    public nonisolated let identityID: PublicID
    let identity: SigningKeyPair

    public init(identity: SigningKeyPair, meshKey: MeshKey, store: Store, config: NodeConfig, logger: Logger) throws {
        var settings = MeshNode.Settings()
        settings.beaconIntervalMillis = config.beaconIntervalMillis
        settings.repairIntervalMillis = config.repairIntervalMillis
        // A quiet mesh beacons at most every 16 minimum intervals: forget a peer after three of those.
        settings.peerTimeoutMillis = max(30_000, 3 * (config.beaconIntervalMillis << Int64(settings.beaconDoublings)))
        let session = Sodium.randomUInt64()
        var node = MeshNode(
            identity: identity, meshKey: meshKey, session: session, seed: Sodium.randomUInt64(), settings: settings)
        let now = wallClockMillis()
        try store.forEachEnvelope { id, expiresAt in node.load(id, expiresAt: expiresAt, now: now) }
        self.nextAlertSequence = try store.lastAlertSequence(author: identity.publicKey.bytes) + 1
        self.node = node
        self.store = store
        self.config = config
        self.logger = logger
        self.startedAt = now
        self.identity = identity
        self.identityID = PublicID(key: identity.publicKey)
        (self.kicks, self.kick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: - Lifecycle

    func attach(_ transport: LANTransport?) {
        self.transport = transport
        node.bridgesInterfaces = (transport?.interfaces.count ?? 0) > 1
    }

    func start() {
        let now = wallClockMillis()
        perform(node.start(now: now))
    }

    /// Fires the timers that are due.
    func tick() {
        let now = wallClockMillis()
        let due = timers.filter { $0.value <= now }.map(\.key)
        for t in due {
            timers[t] = nil
            perform(node.timerFired(t, now: now))
        }
    }

    func receive(_ d: InboundDatagram) {
        perform(node.receive(d.bytes, from: d.from, now: wallClockMillis(), stored: { loadEnvelopes($0) }))
    }

    /// `receive`, then `waitForRoomInQueue`, in one call (one hop onto the actor per datagram instead of two).
    func receiveThenWaitForRoom(_ d: InboundDatagram) async {
        receive(d)
        await waitForRoomInQueue()
    }

    /// Writes queued beyond this make the LAN reader wait for the disk (the socket queue then fills and drops,
    /// counted, and repair brings the rest later): memory stays bounded however slow the SD card is.
    static let maxPendingWrites = 2_048

    /// Returns once the commit queue is below its bound.
    func waitForRoomInQueue() async {
        while pending.count >= Self.maxPendingWrites {
            counters.add("receive_waits_for_disk")
            await withCheckedContinuation { roomWaiters.append($0) }
        }
    }

    // MARK: - Local operations (API)

    public struct OperationError: Error {
        public let code: Int
        public let message: String
    }

    /// A local envelope accepted by the node: durable once `ticket` completes. Its follow-up actions (the
    /// multicast) are carried out with its group commit, before the ticket completes, and only when the commit
    /// succeeded, so nothing leaves for a message the API then reports as failed.
    public struct Prepared: Sendable {
        public let id: EnvelopeID
        let ticket: CommitTicket
    }

    /// Seals a direct message and queues it for the next group commit.
    public func prepareDirect(to recipientKey: [UInt8], text: String) throws -> Prepared {
        let t = times()
        let recipient: SigningPublicKey
        do {
            recipient = try keys.resolve(recipientKey).key
        } catch {
            throw OperationError(code: RPC.ErrorCode.badID, message: "the recipient's key is not a valid public key")
        }
        do {
            return try prepare(
                DirectMessage.seal(
                    text: text, from: identity, to: recipient, createdAt: t.createdAt, expiresAt: t.expiresAt,
                    keys: &keys),
                now: t.now, mayBeForUs: recipient == identity.publicKey)
        } catch let e as MessageError {
            throw OperationError(code: RPC.ErrorCode.invalidParams, message: "cannot seal message: \(e)")
        }
    }

    /// Signs an alert and queues it for the next group commit. Its sequence number becomes durable with it (the
    /// author's own alerts are kept in its inbox, where the next number is found at start-up).
    public func prepareAlert(text: String) throws -> Prepared {
        let t = times()
        do {
            let prepared = try prepare(
                Alert.sign(
                    text: text, by: identity, sequence: nextAlertSequence, createdAt: t.createdAt,
                    expiresAt: t.expiresAt),
                now: t.now)
            nextAlertSequence += 1
            return prepared
        } catch let e as MessageError {
            throw OperationError(code: RPC.ErrorCode.invalidParams, message: "cannot sign alert: \(e)")
        }
    }

    /// Now, and the created-at and expiry stamped on a message made now.
    private func times() -> (now: Millis, createdAt: UInt64, expiresAt: UInt64) {
        let now = wallClockMillis()
        let nowSec = UInt64(now / 1000)
        return (now, nowSec, Self.coarseExpiry(nowSec + config.messageLifetimeSeconds))
    }

    /// Waits until a prepared envelope is on disk and sent. Throws when it could not be stored.
    public nonisolated func complete(_ p: Prepared) async throws -> EnvelopeID {
        do {
            try await p.ticket.wait()
        } catch {
            throw OperationError(
                code: RPC.ErrorCode.storageFailure, message: "cannot write to the database; the message was not sent")
        }
        return p.id
    }

    /// Expiry is rounded down to the minute so it says little about when a message was written.
    static func coarseExpiry(_ t: UInt64) -> UInt64 { t - t % 60 }

    private func prepare(_ envelope: Envelope, now: Millis, mayBeForUs: Bool = true) throws -> Prepared {
        let actions: [MeshNode.Action]
        do {
            actions = try node.submit(envelope, now: now, mayBeForUs: mayBeForUs)
        } catch {
            throw OperationError(code: RPC.ErrorCode.internalError, message: "envelope rejected: \(error.reason)")
        }
        guard case .store(let stored, let message) = actions.first else {
            throw OperationError(code: RPC.ErrorCode.internalError, message: "envelope was not stored")
        }
        let ticket = CommitTicket()
        enqueue(
            PendingWrite(
                envelope: stored, message: message, receivedAt: now / 1000, ticket: ticket,
                followUps: Array(actions.dropFirst())))
        return Prepared(id: stored.id, ticket: ticket)
    }

    // MARK: - Group commit

    struct PendingWrite: Sendable {
        let envelope: StoredEnvelope
        let message: ReceivedMessage?
        let receivedAt: Int64
        let ticket: CommitTicket?
        /// Carried out once this write is committed (a local envelope's multicast).
        var followUps: [MeshNode.Action] = []
    }

    private func enqueue(_ w: PendingWrite) {
        pending.append(w)
        kick.yield()
    }

    /// Takes every queued write (the flusher commits them in one transaction).
    func takePending() -> [PendingWrite] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Commits queued writes in groups until cancelled, then drains what is left: nothing accepted is lost on a
    /// clean shutdown. Runs outside the actor so the node keeps working during fsync.
    func runFlusher() async {
        for await _ in kicks {
            await flushOnce()
        }
        await flushOnce()
    }

    nonisolated func flushOnce() async {
        let batch = await takePending()
        guard !batch.isEmpty else { return }
        let result: Result<[Bool], any Error>
        do {
            result = .success(
                try store.commit(batch.map { ($0.envelope, $0.message, $0.receivedAt) }))
        } catch {
            result = .failure(error)
        }
        await committed(batch, result)
    }

    private func committed(_ batch: [PendingWrite], _ result: Result<[Bool], any Error>) {
        defer {
            let waiters = roomWaiters
            roomWaiters.removeAll()
            for w in waiters { w.resume() }
            if batch.count >= 1_000 { releaseFreedMemory() }
        }
        switch result {
        case .success(let fresh):
            counters.add("envelopes_stored", Int64(batch.count))
            counters.add("commits")
            // The whole group's multicasts in one go (one batch to the transport), then the answers.
            perform(batch.flatMap(\.followUps))
            for w in batch { w.ticket?.complete(nil) }
            let delivered = zip(batch, fresh).compactMap { w, isNew in isNew ? w.message?.id : nil }
            if !delivered.isEmpty { notify(delivered) }
        case .failure(let error):
            logger.error("cannot store envelopes", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            for w in batch {
                node.storeFailed(w.envelope.id)
                w.ticket?.complete(error)
            }
        }
    }

    // MARK: - Status

    func status() -> NodeStatus {
        var all = node.counters.values
        for (k, v) in counters.values { all[k, default: 0] += v }
        if let t = transport {
            for (k, v) in t.counterValues { all[k, default: 0] += v }
        }
        all["packets_out"] = all["packets_out"] ?? 0
        all["packets_in"] = all["packets_in"] ?? 0
        let now = wallClockMillis()
        return NodeStatus(
            id: identityID.description, version: EstafetteVersion.string, peers: node.peerList.count,
            envelopes: node.envelopeCount, uptime_s: Int((now - startedAt) / 1000), counters: all)
    }

    func peers() -> [MeshNode.PeerInfo] { node.peerList }

    // MARK: - Carrying out actions

    /// Carries out actions in order. Stores are queued for the next group commit. Multicasts are handed to the
    /// transport together at the end, in order (one hop to the socket and one flush for the lot).
    private func perform(_ actions: [MeshNode.Action]) {
        var datagrams: [(bytes: [UInt8], except: Int?)] = []
        defer { if !datagrams.isEmpty { transport?.multicast(datagrams) } }
        for action in actions {
            switch action {
            case .multicast(let bytes, let except):
                datagrams.append((bytes, except))
            case .store(let e, let message):
                enqueue(PendingWrite(envelope: e, message: message, receivedAt: wallClockMillis() / 1000, ticket: nil))
            case .multicastRepair(let burst):
                for d in node.datagrams(for: burst, envelopes: loadEnvelopes(burst.ids)) {
                    datagrams.append((d, nil))
                }
            case .deleteExpired(let upTo):
                do {
                    let n = try store.deleteExpired(upTo: upTo)
                    if n > 0 { logger.debug("expired envelopes deleted", metadata: ["count": "\(n)"]) }
                } catch {
                    logger.error("cannot delete expired envelopes", metadata: ["error": "\(error)"])
                }
            case .scheduleTimer(let t, let at):
                timers[t] = at
            }
        }
    }

    /// Gives memory freed after a burst back to the system (glibc keeps freed heap otherwise).
    private func releaseFreedMemory() {
        #if os(Linux)
            _ = glibcMallocTrim(0)
        #endif
    }

    /// Envelopes by ID: those still queued for commit, then the store.
    private func loadEnvelopes(_ ids: [EnvelopeID]) -> [StoredEnvelope] {
        var queued: [EnvelopeID: StoredEnvelope] = [:]
        if !pending.isEmpty {
            let wanted = Set(ids)
            for w in pending where wanted.contains(w.envelope.id) { queued[w.envelope.id] = w.envelope }
        }
        do {
            return Array(queued.values) + (try store.envelopes(ids.filter { queued[$0] == nil }))
        } catch {
            logger.error("cannot load envelopes", metadata: ["error": "\(error)"])
            return Array(queued.values)
        }
    }

    private func notify(_ ids: [EnvelopeID]) {
        do {
            for row in try store.inboxItems(ids) {
                // The sender's key through the key cache: validating it again costs ~40 µs per message.
                hub.publish(InboxItem(row, sender: try? keys.resolve(row.sender).key))
            }
        } catch {
            logger.error("cannot read new messages for subscribers", metadata: ["error": "\(error)"])
        }
        logger.debug("messages received", metadata: ["count": "\(ids.count)"])
    }
}

extension InboxItem {
    /// `sender` is the row's sender key, already validated (nil when it is not a valid key).
    init(_ row: Store.InboxRow, sender: SigningPublicKey?) {
        let from = sender.map { PublicID(key: $0).description } ?? "invalid"
        self.init(
            message_id: EnvelopeID(bytes: row.messageID).hex, kind: row.kind, from: from, from_name: row.senderName,
            text: row.text, created_at: row.createdAt, received_at: row.receivedAt, read: row.read,
            followed: row.kind == "alert" ? row.followed : nil)
    }

    init(_ row: Store.InboxRow) {
        self.init(row, sender: try? SigningPublicKey(validating: row.sender))
    }
}

/// Fans new inbox items out to subscribed API connections. Each subscriber has a bounded queue: a subscriber
/// that does not read loses the oldest notifications beyond `queueLimit` (the inbox still holds every message).
final class SubscriberHub: Sendable {
    private let subscribers = NIOLockedValueBox<[Int: NotificationQueue]>([:])
    private let nextID = NIOLockedValueBox(0)
    /// Twice the largest group commit, whose notifications are published all at once: a subscriber that keeps
    /// reading never loses one, however the messages were grouped.
    static let queueLimit = 2 * Engine.maxPendingWrites

    func subscribe() -> (id: Int, queue: NotificationQueue) {
        let queue = NotificationQueue(limit: Self.queueLimit)
        let id = nextID.withLockedValue { n in
            n += 1
            return n
        }
        subscribers.withLockedValue { $0[id] = queue }
        return (id, queue)
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLockedValue { $0.removeValue(forKey: id) }?.finish()
    }

    func publish(_ item: InboxItem) {
        for q in subscribers.withLockedValue({ Array($0.values) }) {
            q.push(item)
        }
    }

    func finishAll() {
        for q in subscribers.withLockedValue({ s in
            defer { s.removeAll() }
            return Array(s.values)
        }) {
            q.finish()
        }
    }
}

public enum EstafetteVersion {
    public static let string = "0.1.0"
}
