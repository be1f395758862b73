extension MeshNode {
    /// An envelope made here and accepted. The shell stores `envelope` (with `message` when it is for this node)
    /// durably, and only once that is done carries out `afterStore` (its multicast, and whatever it completed), so
    /// that nothing leaves for an envelope the shell then reports as not stored.
    public struct Submission: Sendable, Equatable {
        public let envelope: StoredEnvelope
        public let message: ReceivedMessage?
        public let afterStore: [Action]
        /// For a direct message sent with `sendDirect`: what the shell records of it (`messages.sent`), in the
        /// same commit.
        public var sent: SentRecord? = nil

        /// The store then the rest, as one list of actions, for a shell that carries them out in one go.
        public var actions: [Action] { [.store(envelope, message: message)] + afterStore }
    }

    /// Why the node refused an envelope handed to it: the drop reason it would have counted.
    public struct SubmitError: Error, Equatable, Sendable {
        public let reason: String
    }

    /// Why an alert or a direct message could not be made here.
    public enum LocalMessageError: Error, Equatable, Sendable {
        /// The recipient's key is not a valid Ed25519 public key.
        case invalidRecipient
        /// Signing or sealing refused the message (its text is too long, …).
        case message(MessageError)
        /// The node refused the envelope it made.
        case rejected(SubmitError)
    }

    /// An envelope made elsewhere and handed to this node (the simulator's workload, tests): validated like any
    /// other, stored, delivered to us if it is for us, and multicast. Throws when it would be dropped (expired,
    /// malformed, already held).
    public mutating func submit(_ envelope: Envelope, now: Millis) throws(SubmitError) -> Submission {
        try submit(envelope, now: now, tryOpening: true)
    }

    /// Signs an alert by this node's identity with the next sequence number, living `lifetimeSeconds` from `now`,
    /// and submits it. The sequence number is used up once the node accepts the alert. Its `created_at` is now, or
    /// one second after the previous alert's if that is later: an author's `created_at` strictly increases with
    /// `seq` (docs/protocol.md, "Alert"), so receivers can tell a delayed alert from one sent out of order.
    public mutating func postAlert(
        text: String, lifetimeSeconds: UInt64, now: Millis
    ) throws(LocalMessageError) -> Submission {
        let stamp = Self.stamp(now: now, lifetimeSeconds: lifetimeSeconds)
        let previous = guards.authors.last[identity.publicKey]?.createdAt
        let createdAt = max(stamp.createdAt, previous.map { $0 + 1 } ?? 0)
        let envelope: Envelope
        do {
            envelope = try Alert.sign(
                text: text, by: identity, sequence: nextAlertSequence, createdAt: createdAt,
                expiresAt: stamp.expiresAt)
        } catch {
            throw .message(error)
        }
        let submission: Submission
        do {
            submission = try submit(envelope, now: now, tryOpening: true)
        } catch {
            throw .rejected(error)
        }
        nextAlertSequence = min(nextAlertSequence, .max - 1) + 1
        return submission
    }

    /// The last alert this node's identity made, as found in the store at start-up (`resumeAlerts(after:)` for its
    /// number): the next alert is numbered after it and created after it.
    public mutating func resumeAlerts(after lastSequence: UInt64, createdAt: UInt64) {
        resumeAlerts(after: lastSequence)
        guards.authors.recordOwn(sequence: lastSequence, createdAt: createdAt, author: identity.publicKey)
    }

    /// Seals a direct message from this node's identity to the key `recipientKey`, living `lifetimeSeconds` from
    /// `now`, and submits it. It is opened (and delivered to us) only when we are its recipient: a message to
    /// anyone else cannot be for us, so it costs no trial decryption.
    public mutating func sendDirect(
        text: String, to recipientKey: [UInt8], lifetimeSeconds: UInt64, now: Millis, ephemeral: Bool = false
    ) throws(LocalMessageError) -> Submission {
        let recipient: SigningPublicKey
        do {
            recipient = try keys.resolve(recipientKey).key
        } catch {
            throw .invalidRecipient
        }
        let stamp = Self.stamp(now: now, lifetimeSeconds: lifetimeSeconds)
        let envelope: Envelope
        do {
            envelope = try DirectMessage.seal(
                text: text, from: identity, to: recipient, createdAt: stamp.createdAt, expiresAt: stamp.expiresAt,
                ephemeral: ephemeral, keys: &keys)
        } catch {
            throw .message(error)
        }
        let toSelf = recipient == identity.publicKey
        var submission: Submission
        do {
            submission = try submit(envelope, now: now, tryOpening: toSelf)
        } catch {
            throw .rejected(error)
        }
        submission.sent = SentRecord(
            id: submission.envelope.id, recipient: recipient, sentAt: stamp.createdAt, expiresAt: stamp.expiresAt,
            deliveredAt: toSelf ? stamp.createdAt : nil)
        if !toSelf { awaitReceipt(for: submission.envelope.id, from: recipient, expiresAt: stamp.expiresAt, now: now) }
        return submission
    }

    /// The created-at and expiry (Unix seconds) stamped on a message made at `now`.
    static func stamp(now: Millis, lifetimeSeconds: UInt64) -> (createdAt: UInt64, expiresAt: UInt64) {
        let createdAt = UInt64(max(0, now / 1000))
        return (createdAt, Envelope.expiry(createdAt: createdAt, lifetimeSeconds: lifetimeSeconds))
    }

    /// Accepts a local envelope: `tryOpening: false` skips the trial decryption of a direct message that cannot
    /// be for us.
    mutating func submit(_ envelope: Envelope, now: Millis, tryOpening: Bool) throws(SubmitError) -> Submission {
        let bytes = envelope.encoded()
        switch accept(bytes, now: now, tryOpening: tryOpening) {
        case .accepted(let stored, let message):
            var afterStore: [Action] = []
            for d in datagrams(forEncoded: bytes, id: stored.id) {
                afterStore.append(.multicast(d, except: nil))
            }
            learnForDecoding(stored, from: nil, now: now, into: &afterStore)
            return Submission(envelope: stored, message: message, afterStore: afterStore)
        case .duplicate:
            throw SubmitError(reason: "duplicate")
        case .rejected(let reason):
            throw SubmitError(reason: reason)
        }
    }
}
