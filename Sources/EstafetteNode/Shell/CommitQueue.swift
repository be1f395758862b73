import EstafetteCore

/// The envelopes waiting for the next group commit, in order, and the LAN readers waiting for room in it. The
/// flusher (`NodeShell.runFlusher`) takes everything queued and commits it in one SQLite transaction, so that one
/// fsync covers many envelopes (docs/decisions.md, "Store").
struct CommitQueue {
    /// One envelope to store, with its message when it was for us; `ticket` is completed once it is committed
    /// (for local sends, whose API call waits for it).
    struct Write: Sendable {
        let envelope: StoredEnvelope
        let message: ReceivedMessage?
        /// Unix seconds.
        let receivedAt: Int64
        let ticket: CommitTicket?
        /// Made by this node (a message, alert, post or receipt it authored): the quota evicts it last, and a
        /// message of ours is never a request. An envelope imported from a bundle or heard is not, whoever it
        /// is addressed to.
        var local = false
        /// The record of a direct message sent here, written with it.
        var sent: MeshNode.SentRecord? = nil
        /// Carried out once this write is committed, before its ticket completes (a local envelope's multicast).
        var afterStore: [MeshNode.Action] = []
        /// The relay link it came from (it is not pushed back there), nil for the LAN or a local send.
        var linkOrigin: Int? = nil
        /// Told once it is committed or failed (an envelope from a relay link, acknowledged only then).
        var settled: (@Sendable (RelaySettlement) -> Void)? = nil
    }

    /// An envelope from a relay link that the node already held: acknowledged once the next group commit is
    /// done, so that one still queued (not yet durable) is never acknowledged early.
    struct Settlement: Sendable {
        let id: EnvelopeID
        let settled: @Sendable (RelaySettlement) -> Void
    }

    /// Writes queued beyond this make the LAN reader wait for the disk (the socket queue then fills and drops,
    /// counted, and repair brings the rest later): memory stays bounded however slow the SD card is.
    static let maxPending = 2_048

    private(set) var pending: [Write] = []
    private(set) var settlements: [Settlement] = []
    /// LAN readers waiting for the queue to drain below `maxPending`.
    private var roomWaiters: [CheckedContinuation<Void, Never>] = []
    /// Wakes the flusher when writes are queued (coalesced).
    let kicks: AsyncStream<Void>
    private let kick: AsyncStream<Void>.Continuation

    init() {
        (kicks, kick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var isFull: Bool { pending.count >= Self.maxPending }

    mutating func append(_ write: Write) {
        pending.append(write)
        kick.yield()
    }

    mutating func append(_ settlement: Settlement) {
        settlements.append(settlement)
        kick.yield()
    }

    /// Takes every queued write, for one transaction, and the settlements that wait for it.
    mutating func takeAll() -> (writes: [Write], settlements: [Settlement]) {
        defer {
            pending.removeAll(keepingCapacity: true)
            settlements.removeAll()
        }
        return (pending, settlements)
    }

    mutating func waitForRoom(_ waiter: CheckedContinuation<Void, Never>) {
        roomWaiters.append(waiter)
    }

    /// Resumes the readers waiting for room (after a commit).
    mutating func wakeWaiters() {
        let waiters = roomWaiters
        roomWaiters.removeAll()
        for w in waiters { w.resume() }
    }
}
