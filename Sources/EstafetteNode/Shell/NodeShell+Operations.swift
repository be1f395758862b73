import EstafetteAPI
import EstafetteCore

/// What the API asks of the node: sending a direct message or an alert, its status and peers. The node makes, validates and accepts the
/// envelope; the shell queues it for the next group commit and multicasts it only once it is durable.
extension NodeShell {
    public struct OperationError: Error {
        public let code: Int
        public let message: String
    }

    /// A local envelope accepted by the node: durable once `ticket` completes. Its `afterStore` actions (the
    /// multicast) are carried out with its group commit, before the ticket completes, and only when the commit
    /// succeeded, so nothing leaves for a message the API then reports as failed.
    public struct Prepared: Sendable {
        public let id: EnvelopeID
        let ticket: CommitTicket
    }

    /// Seals a direct message and queues it for the next group commit.
    /// With `expiresIn`, the message lives that long and is ephemeral: it vanishes from the recipient's inbox too.
    public func prepareDirect(to recipientKey: [UInt8], text: String, expiresIn: UInt64? = nil) throws(OperationError)
        -> Prepared
    {
        let now = wallClockMillis()
        do {
            return queue(
                try node.sendDirect(
                    text: text, to: recipientKey, lifetimeSeconds: expiresIn ?? config.messageLifetimeSeconds,
                    now: now, ephemeral: expiresIn != nil),
                now: now)
        } catch {
            throw Self.operationError(error, making: "seal message")
        }
    }

    /// Signs an alert and queues it for the next group commit. The node numbers it; the number becomes durable
    /// with it (the author's own alerts are kept in its inbox, where the shell finds the last one at start-up).
    public func prepareAlert(text: String) throws(OperationError) -> Prepared {
        let now = wallClockMillis()
        do {
            return queue(
                try node.postAlert(text: text, lifetimeSeconds: config.messageLifetimeSeconds, now: now), now: now)
        } catch {
            throw Self.operationError(error, making: "sign alert")
        }
    }

    /// Waits until a prepared envelope is on disk and sent. Throws when it could not be stored.
    public nonisolated func complete(_ p: Prepared) async throws(OperationError) -> EnvelopeID {
        do {
            try await p.ticket.wait()
        } catch {
            throw OperationError(
                code: RPC.ErrorCode.storageFailure, message: "cannot write to the database; the message was not sent")
        }
        return p.id
    }

    // MARK: - Queries

    func status() -> NodeStatus {
        var all = node.counters.values
        for (k, v) in counters.values { all[k, default: 0] += v }
        for (k, v) in apiCounters.values { all[k, default: 0] += v }
        if let t = transport {
            for (k, v) in t.counterValues { all[k, default: 0] += v }
        }
        if let relayCounters {
            for (k, v) in relayCounters() { all[k, default: 0] += v }
        }
        all["packets_out"] = all["packets_out"] ?? 0
        all["packets_in"] = all["packets_in"] ?? 0
        let now = wallClockMillis()
        return NodeStatus(
            id: identityID.description, version: EstafetteVersion.string, peers: node.peerList.count,
            envelopes: node.envelopeCount, uptime_s: Int((now - startedAt) / 1000), counters: all,
            clock: ClockInfo(suspect: node.clockStatus.suspect, skew_seconds: node.clockStatus.skewSeconds))
    }

    func peers() -> [MeshNode.PeerInfo] { node.peerList }

    // MARK: - Queueing

    /// `queue`, for the other parts of the shell (NodeShell+Channels.swift).
    func queuePrepared(_ submission: MeshNode.Submission, now: Millis) -> Prepared { queue(submission, now: now) }

    private func queue(_ submission: MeshNode.Submission, now: Millis) -> Prepared {
        let ticket = CommitTicket()
        queue(submission, now: now, ticket: ticket)
        return Prepared(id: submission.envelope.id, ticket: ticket)
    }

    /// Queues an envelope this node made (with a ticket when an API call waits for it; none for a receipt).
    func queue(_ submission: MeshNode.Submission, now: Millis, ticket: CommitTicket?) {
        commits.append(
            CommitQueue.Write(
                envelope: submission.envelope, message: submission.message, receivedAt: now / 1000, ticket: ticket,
                local: true, sent: submission.sent, afterStore: submission.afterStore))
    }

    private static func operationError(_ error: MeshNode.LocalMessageError, making what: String) -> OperationError {
        switch error {
        case .invalidRecipient:
            return OperationError(code: RPC.ErrorCode.badID, message: "the recipient's key is not a valid public key")
        case .message(let e):
            return OperationError(code: RPC.ErrorCode.invalidParams, message: "cannot \(what): \(e)")
        case .rejected(let e):
            return OperationError(code: RPC.ErrorCode.internalError, message: "envelope rejected: \(e.reason)")
        }
    }
}
