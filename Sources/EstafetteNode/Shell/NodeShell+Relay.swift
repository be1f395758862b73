import EstafetteCore

/// The node as relay links see it (`RelayNodePort`): the records to reconcile, envelopes to send, and envelopes
/// received, validated by the core exactly as LAN ones (`MeshNode.receiveFromLink`), committed through the
/// same group commit, then gossiped on the LAN and pushed to the other links.
extension NodeShell: RelayNodePort {
    /// Sends every envelope committed as new from now on to `runtime`'s links (except the one it came from).
    public func attachRelays(_ runtime: RelayRuntime) {
        relayOutlet = { runtime.push($0) }
        relayCounters = { runtime.counters() }
    }

    public func relayRecords() -> [NegentropyRecord] {
        node.linkRecords(now: wallClockMillis())
    }

    public func relayEnvelopes(_ ids: [EnvelopeID]) -> [StoredEnvelope] {
        lookup.envelopes(ids)
    }

    /// Returns once the commit queue has room again, so a link (like a LAN reader) waits for a slow disk instead
    /// of growing the queue.
    public func relayReceive(
        _ bytes: [UInt8], link: Int, settled: @escaping @Sendable (RelaySettlement) -> Void
    ) async {
        let now = wallClockMillis()
        switch node.receiveFromLink(bytes, now: now) {
        case .accepted(let submission):
            commits.append(
                CommitQueue.Write(
                    envelope: submission.envelope, message: submission.message, receivedAt: now / 1000, ticket: nil,
                    afterStore: submission.afterStore, linkOrigin: link, settled: settled))
        case .duplicate:
            // Held, but perhaps still queued: acknowledged after the next group commit.
            commits.append(CommitQueue.Settlement(id: EnvelopeID(ofEncoded: bytes), settled: settled))
        case .rejected(let reason):
            settled(.refused(reason))
        }
        await waitForRoomInQueue()
    }

    /// Settlements of duplicates, after a successful commit: durable if the node still holds the envelope (its
    /// original was not in a commit that failed).
    func settleHeld(_ settlements: [CommitQueue.Settlement]) {
        for s in settlements {
            s.settled(node.holds(s.id) ? .committed(new: false) : .storeFailed)
        }
    }

    /// New envelopes to the relay links.
    func pushToRelays(_ envelopes: [(id: EnvelopeID, origin: Int?)]) {
        guard !envelopes.isEmpty, let relayOutlet else { return }
        relayOutlet(envelopes)
    }
}
