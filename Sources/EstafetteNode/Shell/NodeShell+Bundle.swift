import EstafetteAPI
import EstafetteCore

/// Sneakernet and the relay quota, as the shell carries them out: an imported bundle's envelopes go through the
/// node's validation (`MeshNode.importEnvelope`, the LAN path's `accept`) and the group commit, like envelopes
/// from the network; envelopes a quota evicted leave the node's index.
extension NodeShell {
    public struct ImportCounts: Sendable, Equatable {
        public var imported = 0
        public var duplicates = 0
        public var refused = 0
    }

    /// Imports a bundle file: checks it whole first (nothing is imported from a truncated or damaged bundle),
    /// then feeds its envelopes to the node in batches and waits until each batch is committed.
    public nonisolated func importBundle(path: String) async throws(BundleFile.Failure) -> ImportCounts {
        _ = try await BundleFile.read(path) { _ throws(BundleFile.Failure) in }
        var counts = ImportCounts()
        _ = try await BundleFile.read(path) { batch throws(BundleFile.Failure) in
            let (c, ticket) = await self.importBatch(batch)
            counts.imported += c.imported
            counts.duplicates += c.duplicates
            counts.refused += c.refused
            // Commit now rather than at the flusher's next turn (and when no flusher runs); if the flusher took
            // the batch already, the ticket completes with its commit.
            if ticket != nil { await self.flushOnce() }
            do {
                try await ticket?.wait()
            } catch {
                throw BundleFile.Failure(kind: .file, description: "cannot write to the database: \(error)")
            }
        }
        return counts
    }

    /// Validates one batch through the node; its new envelopes are queued for the next group commit with one
    /// ticket (they are queued together, so they are committed in one transaction).
    func importBatch(_ envelopes: [[UInt8]]) -> (ImportCounts, CommitTicket?) {
        let now = wallClockMillis()
        var counts = ImportCounts()
        var actions: [MeshNode.Action] = []
        for bytes in envelopes {
            switch node.importEnvelope(bytes, now: now, into: &actions) {
            case .imported: counts.imported += 1
            case .duplicate: counts.duplicates += 1
            case .refused: counts.refused += 1
            }
        }
        let ticket = counts.imported > 0 ? CommitTicket() : nil
        var rest: [MeshNode.Action] = []
        for action in actions {
            if case .store(let e, let message) = action {
                commits.append(
                    CommitQueue.Write(envelope: e, message: message, receivedAt: now / 1000, ticket: ticket))
            } else {
                rest.append(action)
            }
        }
        perform(rest)
        return (counts, ticket)
    }

    /// Writes a bundle of the store's unexpired envelopes (received at or after `since`).
    public nonisolated func exportBundle(path: String, since: Int64?) throws(BundleFile.Failure) -> (
        envelopes: Int, bytes: Int
    ) {
        try BundleFile.export(from: store, to: path, since: since, now: wallClockMillis())
    }

    /// The node forgets envelopes the store no longer holds (evicted by the quota).
    public func forget(_ ids: [EnvelopeID]) {
        node.forget(ids)
    }

    /// For the link runtime: admits an envelope brought by `linkKey` under the relay quota, and makes the node
    /// forget what was evicted for it. Only for envelopes the node does not hold (`holds`).
    public func admitFromLink(
        _ id: EnvelopeID, size: Int, expiresAt: UInt64, linkKey: [UInt8], quota: RelayQuota
    ) throws -> RelayAdmission {
        let result = try quota.admit(id, size: size, expiresAt: expiresAt, linkKey: linkKey, now: wallClockMillis())
        if case .admitted(let evicted) = result, !evicted.isEmpty { node.forget(evicted) }
        return result
    }
}
