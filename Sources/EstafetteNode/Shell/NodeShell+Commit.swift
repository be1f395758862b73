import EstafetteAPI
import EstafetteCore
import Logging

#if os(Linux)
    /// glibc's `malloc_trim` (declared in <malloc.h>, which the Glibc module does not export).
    @_silgen_name("malloc_trim")
    private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Group commit: the flusher commits whatever the commit queue holds in one transaction, then completes the
/// writes' tickets, tells the node about envelopes it could not store, and notifies API subscribers of new
/// messages.
extension NodeShell {
    /// Returns once the commit queue is below its bound.
    func waitForRoomInQueue() async {
        while commits.isFull {
            counters.add("receive_waits_for_disk")
            await withCheckedContinuation { commits.waitForRoom($0) }
        }
    }

    /// Takes every queued write (the flusher commits them in one transaction) and the relay settlements that
    /// wait for it.
    func takePending() -> (writes: [CommitQueue.Write], settlements: [CommitQueue.Settlement]) {
        commits.takeAll()
    }

    /// Commits queued writes in groups until cancelled, then drains what is left: nothing accepted is lost on a
    /// clean shutdown. Runs outside the actor so the node keeps working during fsync.
    func runFlusher() async {
        for await _ in commits.kicks {
            await flushOnce()
        }
        await flushOnce()
    }

    nonisolated func flushOnce() async {
        let (batch, settlements) = await takePending()
        guard !batch.isEmpty || !settlements.isEmpty else { return }
        let result: Result<[MeshNode.Placement?], any Error>
        do {
            result = .success(
                batch.isEmpty
                    ? []
                    : try store.place(
                        batch.map { ($0.envelope, $0.message, $0.receivedAt) },
                        local: Set(batch.filter(\.local).map(\.envelope.id)),
                        requestsFromStrangers: config.requestsFromStrangers, sent: batch.compactMap(\.sent)))
        } catch {
            result = .failure(error)
        }
        await committed(batch, settlements, result)
    }

    private func committed(
        _ batch: [CommitQueue.Write], _ settlements: [CommitQueue.Settlement],
        _ result: Result<[MeshNode.Placement?], any Error>
    ) {
        defer {
            commits.wakeWaiters()
            if batch.count >= 1_000 { releaseFreedMemory() }
        }
        switch result {
        case .success(let placements):
            if !batch.isEmpty {
                counters.add("envelopes_stored", Int64(batch.count))
                counters.add("commits")
                enforceQuota(added: batch.reduce(0) { $0 + Int64($1.envelope.bytes.count) })
            }
            // The whole group's multicasts in one go (one batch to the transport), then the answers.
            perform(batch.flatMap(\.afterStore))
            for w in batch { w.ticket?.complete(nil) }
            // Every queued write is an envelope the node accepted as new (`fresh` is about inbox entries).
            for w in batch { w.settled?(.committed(new: true)) }
            settleHeld(settlements)
            pushToRelays(batch.map { ($0.envelope.id, $0.linkOrigin) })
            let delivered = zip(batch, placements).compactMap { w, p in p == .inbox ? w.message?.id : nil }
            if !delivered.isEmpty { notify(delivered) }
            acknowledge(zip(batch, placements).compactMap { w, p in w.message.flatMap { m in p.map { (message: m, placement: $0) } } })
        case .failure(let error):
            logger.error("cannot store envelopes", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            for w in batch {
                node.storeFailed(w.envelope.id)
                w.ticket?.complete(error)
                w.settled?(.storeFailed)
            }
            for s in settlements { s.settled(.storeFailed) }
        }
    }

    /// Tells the node where the committed messages went; it answers with the receipts to send, which are
    /// committed (and then multicast) like any envelope made here.
    private func acknowledge(_ placed: [(message: ReceivedMessage, placement: MeshNode.Placement)]) {
        guard !placed.isEmpty else { return }
        let now = wallClockMillis()
        for receipt in node.committed(placed, lifetimeSeconds: config.messageLifetimeSeconds, now: now) {
            queue(receipt, now: now, ticket: nil)
        }
    }

    /// Gives memory freed after a burst back to the system (glibc keeps freed heap otherwise).
    private func releaseFreedMemory() {
        #if os(Linux)
            _ = glibcMallocTrim(0)
        #endif
    }

    private func notify(_ ids: [EnvelopeID]) {
        do {
            for row in try store.inboxItems(ids) {
                // The sender's key through the key cache: validating it again costs ~40 µs per message.
                hub.publish(InboxItem(row, sender: try? senderKeys.resolve(row.sender).key))
            }
        } catch {
            logger.error("cannot read new messages for subscribers", metadata: ["error": "\(error)"])
        }
        logger.debug("messages received", metadata: ["count": "\(ids.count)"])
    }
}
