import EstafetteAPI
import EstafetteCore
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
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
    let startedAt: Millis
    public nonisolated let identityID: PublicID
    let identity: SigningKeyPair

    public init(identity: SigningKeyPair, meshKey: MeshKey, store: Store, config: NodeConfig, logger: Logger) throws {
        var settings = MeshNode.Settings()
        settings.beaconIntervalMillis = config.beaconIntervalMillis
        settings.peerTimeoutMillis = max(15_000, 5 * config.beaconIntervalMillis)
        let session = Sodium.randomUInt64()
        var node = MeshNode(
            identity: identity, meshKey: meshKey, session: session, seed: Sodium.randomUInt64(), settings: settings)
        let now = wallClockMillis()
        node.load(try store.envelopeIndex(), now: now)
        self.node = node
        self.store = store
        self.config = config
        self.logger = logger
        self.startedAt = now
        self.identity = identity
        self.identityID = PublicID(key: identity.publicKey)
    }

    // MARK: - Lifecycle

    func attach(_ transport: LANTransport?) {
        self.transport = transport
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
        perform(node.receive(d.bytes, from: d.from, now: wallClockMillis()))
    }

    // MARK: - Local operations (API)

    public struct OperationError: Error {
        public let code: Int
        public let message: String
    }

    /// Seals, stores durably and sends a direct message. Returns once the envelope is committed to disk.
    public func sendDirect(to recipient: SigningPublicKey, text: String) throws -> EnvelopeID {
        let now = wallClockMillis()
        let nowSec = UInt64(now / 1000)
        let envelope: Envelope
        do {
            envelope = try DirectMessage.seal(
                text: text, from: identity, to: recipient, createdAt: nowSec,
                expiresAt: Self.coarseExpiry(nowSec + config.messageLifetimeSeconds))
        } catch {
            throw OperationError(code: RPC.ErrorCode.invalidParams, message: "cannot seal message: \(error)")
        }
        return try submit(envelope, now: now)
    }

    public func postAlert(text: String) throws -> EnvelopeID {
        let now = wallClockMillis()
        let nowSec = UInt64(now / 1000)
        let seq: UInt64
        do {
            seq = try store.nextAlertSequence()
        } catch {
            throw OperationError(code: RPC.ErrorCode.storageFailure, message: "cannot write to the database: \(error)")
        }
        let envelope: Envelope
        do {
            envelope = try Alert.sign(
                text: text, by: identity, sequence: seq, createdAt: nowSec,
                expiresAt: Self.coarseExpiry(nowSec + config.messageLifetimeSeconds))
        } catch {
            throw OperationError(code: RPC.ErrorCode.invalidParams, message: "cannot sign alert: \(error)")
        }
        return try submit(envelope, now: now)
    }

    /// Expiry is rounded down to the minute so it says little about when a message was written.
    static func coarseExpiry(_ t: UInt64) -> UInt64 { t - t % 60 }

    private func submit(_ envelope: Envelope, now: Millis) throws -> EnvelopeID {
        let actions: [MeshNode.Action]
        do {
            actions = try node.submit(envelope, now: now)
        } catch {
            throw OperationError(code: RPC.ErrorCode.internalError, message: "envelope rejected: \(error.reason)")
        }
        guard case .store(let stored, _) = actions.first else {
            throw OperationError(code: RPC.ErrorCode.internalError, message: "envelope was not stored")
        }
        guard perform(actions) else {
            throw OperationError(
                code: RPC.ErrorCode.storageFailure, message: "cannot write to the database; the message was not sent")
        }
        return stored.id
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

    /// Carries out actions in order. A failed store aborts the rest (nothing is sent for an envelope that was
    /// not committed). Returns false in that case.
    @discardableResult
    private func perform(_ actions: [MeshNode.Action]) -> Bool {
        for action in actions {
            switch action {
            case .multicast(let bytes, let except):
                transport?.multicast(bytes, except: except)
            case .unicast(let bytes, let to):
                transport?.unicast(bytes, to: to)
            case .store(let e, let message):
                do {
                    let fresh = try store.commit(e, message: message, receivedAt: wallClockMillis() / 1000)
                    counters.add("envelopes_stored")
                    if fresh, let m = message { notify(m) }
                } catch {
                    node.storeFailed(e.id)
                    logger.error("cannot store envelope", metadata: ["msg.id": "\(e.id)", "error": "\(error)"])
                    return false
                }
            case .sendStored(let ids, let to):
                do {
                    for e in try store.envelopes(ids) {
                        for d in node.datagrams(forEncoded: e.bytes, id: e.id) {
                            transport?.unicast(d, to: to)
                        }
                    }
                } catch {
                    logger.error("cannot load envelopes", metadata: ["error": "\(error)"])
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
        return true
    }

    private func notify(_ m: ReceivedMessage) {
        guard let row = try? store.inboxItem(m.id) else { return }
        hub.publish(InboxItem(row))
        logger.info("message received", metadata: ["msg.id": "\(m.id)", "msg.kind": "\(m.kind.rawValue)"])
    }
}

extension InboxItem {
    init(_ row: Store.InboxRow) {
        let from = (try? SigningPublicKey(validating: row.sender)).map { PublicID(key: $0).description } ?? "invalid"
        self.init(
            message_id: EnvelopeID(bytes: row.messageID).hex, kind: row.kind, from: from, from_name: row.senderName,
            text: row.text, created_at: row.createdAt, received_at: row.receivedAt, read: row.read,
            followed: row.kind == "alert" ? row.followed : nil)
    }
}

/// Fans new inbox items out to subscribed API connections. Each subscriber has a bounded queue: a subscriber
/// that does not read loses the oldest notifications beyond 1024 (the inbox still holds every message).
final class SubscriberHub: Sendable {
    private let subscribers = NIOLockedValueBox<[Int: AsyncStream<InboxItem>.Continuation]>([:])
    private let nextID = NIOLockedValueBox(0)

    func subscribe() -> (id: Int, stream: AsyncStream<InboxItem>) {
        let (stream, continuation) = AsyncStream.makeStream(of: InboxItem.self, bufferingPolicy: .bufferingNewest(1024))
        let id = nextID.withLockedValue { n in
            n += 1
            return n
        }
        subscribers.withLockedValue { $0[id] = continuation }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLockedValue { $0.removeValue(forKey: id) }?.finish()
    }

    func publish(_ item: InboxItem) {
        for c in subscribers.withLockedValue({ Array($0.values) }) {
            c.yield(item)
        }
    }

    func finishAll() {
        for c in subscribers.withLockedValue({ s in
            defer { s.removeAll() }
            return Array(s.values)
        }) {
            c.finish()
        }
    }
}

public enum EstafetteVersion {
    public static let string = "0.1.0"
}
