/// Delivery receipts (docs/protocol.md, "Delivery receipt"). The recipient's node acknowledges a direct message
/// once its store has put it in the inbox, with a direct message of content type 3 back to its sender; the
/// sender's node accepts a receipt only from the recipient of a message it sent, and the shell marks that message
/// delivered. The store says where each message went (`Placement`); the node decides whether that earns a
/// receipt.
extension MeshNode {
    /// Where the shell's store put a message for us when it committed it.
    public enum Placement: Sendable, Equatable {
        /// New in the inbox.
        case inbox
        /// New among the requests (`accept_from = "contacts"`, a sender who is not a contact): its sender is never
        /// told, so it earns no receipt.
        case request
        /// From a blocked sender: carried, never shown, never acknowledged.
        case hidden
        /// Already in the inbox (the same sender and author nonce): acknowledged the first time.
        case duplicate
        /// A receipt: the message it acknowledges was marked delivered (or already was).
        case acknowledged
    }

    /// A direct message sent here with `sendDirect`: the shell records it (`messages.sent`) in the same commit as
    /// its envelope.
    public struct SentRecord: Sendable, Equatable {
        public let id: EnvelopeID
        public let recipient: SigningPublicKey
        /// Unix seconds.
        public let sentAt: UInt64
        public let expiresAt: UInt64
        /// Set for a message to ourselves: it is in our inbox once stored, so delivered when sent.
        public let deliveredAt: UInt64?
    }

    /// A message sent here to someone else whose receipt may still come.
    struct AwaitedReceipt: Sendable {
        let recipient: SigningPublicKey
        /// Unix seconds after which no valid receipt can arrive: the recipient can receive the message until it
        /// expires, and its receipt lives at most the longest lifetime (and the clock skew) after that.
        let until: UInt64
    }

    /// Most sent messages whose receipts the node waits for: 64 Ki entries (about 10 MiB), more than a week of
    /// sending a message a minute five times over. Beyond it the one that expires soonest is forgotten (it stays
    /// "sent").
    public static let maxAwaitedReceipts = 65_536

    /// Waits for the receipt of a message sent before a restart (the shell reads the unacknowledged ones from its
    /// store at start-up). A recipient key that is not valid is ignored.
    public mutating func awaitReceipt(for id: EnvelopeID, from recipient: [UInt8], expiresAt: UInt64, now: Millis) {
        guard let key = try? keys.resolve(recipient).key else { return }
        awaitReceipt(for: id, from: key, expiresAt: expiresAt, now: now)
    }

    mutating func awaitReceipt(for id: EnvelopeID, from recipient: SigningPublicKey, expiresAt: UInt64, now: Millis) {
        let until = expiresAt + Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds
        guard until > UInt64(max(0, now / 1000)) else { return }
        if awaitedReceipts[id] == nil, awaitedReceipts.count >= Self.maxAwaitedReceipts,
            let soonest = awaitedReceipts.min(by: { $0.value.until < $1.value.until })
        {
            awaitedReceipts[soonest.key] = nil
            counters.add("receipts_forgotten")
        }
        awaitedReceipts[id] = AwaitedReceipt(recipient: recipient, until: until)
    }

    /// How many sent messages wait for a receipt.
    public var awaitedReceiptCount: Int { awaitedReceipts.count }

    /// A receipt that opened for us: kept (to mark its message delivered) only when it acknowledges a message
    /// sent here and comes from that message's recipient; anything else is counted and dropped (its envelope is
    /// still carried like any other).
    mutating func judgeReceipt(_ m: ReceivedMessage, acknowledging acknowledged: EnvelopeID) -> ReceivedMessage? {
        guard let awaited = awaitedReceipts[acknowledged] else {
            counters.add("receipts_refused")
            counters.add("drop.receipt_unknown_message")
            return nil
        }
        guard awaited.recipient == m.sender else {
            counters.add("receipts_refused")
            counters.add("drop.receipt_wrong_sender")
            return nil
        }
        counters.add("receipts_received")
        return m
    }

    /// The shell committed these messages for us, placed as its store says. Each direct message that went new
    /// into the inbox from someone else is acknowledged with a receipt (unless `Settings.sendsReceipts` is off);
    /// nothing else is: not a request, a blocked sender's message, a duplicate, a receipt, our own message. The
    /// receipts are submitted like local envelopes (store each, then carry out its `afterStore`) and live
    /// `lifetimeSeconds` from `now`, as a message sent now would, so that their expiry does not point at the
    /// message they acknowledge.
    public mutating func committed(
        _ placed: [(message: ReceivedMessage, placement: Placement)], lifetimeSeconds: UInt64, now: Millis
    ) -> [Submission] {
        guard settings.sendsReceipts else { return [] }
        var receipts: [Submission] = []
        for (m, placement) in placed {
            guard placement == .inbox, m.kind == .direct, m.acknowledges == nil, m.sender != identity.publicKey
            else { continue }
            let stamp = Self.stamp(now: now, lifetimeSeconds: lifetimeSeconds)
            do {
                let envelope = try DirectMessage.sealReceipt(
                    for: m.id, from: identity, to: m.sender, createdAt: stamp.createdAt, expiresAt: stamp.expiresAt,
                    keys: &keys)
                receipts.append(try submit(envelope, now: now, tryOpening: false))
                counters.add("receipts_sent")
            } catch {
                counters.add("receipts_failed")
            }
        }
        return receipts
    }

    /// Forgets the sent messages whose receipts can no longer come.
    mutating func sweepAwaitedReceipts(nowSec: UInt64) {
        guard !awaitedReceipts.isEmpty else { return }
        awaitedReceipts = awaitedReceipts.filter { $0.value.until > nowSec }
    }
}
