extension RelayLinkStateMachine {
    /// The initiator starts a reconciliation round: it needs a snapshot of the store first.
    mutating func beginRound(into actions: inout [Action]) {
        reconciling = true
        snapshotPending = true
        actions.append(.requestSnapshot)
    }

    /// The answer to `.requestSnapshot`: the records of the unexpired envelopes held now (any order).
    public mutating func snapshot(_ records: [NegentropyRecord], now: Millis) -> [Action] {
        var actions: [Action] = []
        guard phase == .established, snapshotPending else { return actions }
        snapshotPending = false
        do throws(NegentropyError) {
            let storage = try NegentropyStorage(sorted: Self.sortedUnique(records))
            var session = try NegentropySession(storage: storage, frameSizeLimit: settings.negentropyFrameLimit)
            switch role {
            case .initiator:
                let first = try session.initiate()
                negentropy = session
                stats.negentropyBytes += first.count
                sendRecord(.negentropy(first), now: now, into: &actions)
            case .responder:
                negentropy = session
                if let m = bufferedNegentropy {
                    bufferedNegentropy = nil
                    try respond(m, now: now, into: &actions)
                }
            }
        } catch {
            fail(.negentropy(error), into: &actions)
        }
        return actions
    }

    /// `records` sorted, without duplicates or the reserved timestamp. A store's snapshot (``MeshNode/linkRecords``)
    /// is sorted already and is returned as it is, not copied: at a million records each copy is 40 MB of a relay's
    /// peak memory. Anything else is sorted into one copy and cleaned in place.
    static func sortedUnique(_ records: [NegentropyRecord]) -> [NegentropyRecord] {
        var clean = records.last?.timestamp != .max
        var i = 1
        while clean && i < records.count {
            clean = records[i - 1] < records[i]
            i += 1
        }
        if clean { return records }
        var sorted = records
        sorted.sort()
        // A store never holds two envelopes with one ID; drop exact duplicates a careless snapshot may have.
        var kept = 0
        for r in sorted.indices where sorted[r].timestamp != .max && (kept == 0 || sorted[kept - 1] != sorted[r]) {
            sorted[kept] = sorted[r]
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        return sorted
    }

    /// A Negentropy message from the peer.
    mutating func onNegentropy(_ message: [UInt8], now: Millis, into actions: inout [Action]) throws(RelayLinkError) {
        switch role {
        case .responder:
            guard negentropy != nil else {
                // The first message of a round: answered once the snapshot is here. The initiator waits for
                // the answer, so one message at most is ever held.
                guard bufferedNegentropy == nil else { throw .unexpectedRecord("negentropy before the answer") }
                bufferedNegentropy = message
                if !snapshotPending {
                    snapshotPending = true
                    actions.append(.requestSnapshot)
                }
                return
            }
            do throws(NegentropyError) {
                try respond(message, now: now, into: &actions)
            } catch {
                throw .negentropy(error)
            }
        case .initiator:
            guard reconciling, negentropy != nil else { throw .unexpectedRecord("negentropy outside a round") }
            let result: NegentropySession.Reconciliation
            do {
                result = try negentropy!.reconcile(message)
            } catch {
                throw .negentropy(error)
            }
            for id in result.have { enqueue(id, live: false) }
            var need = result.need[...]
            while !need.isEmpty {
                let chunk = need.prefix(RelayRecord.maxWantIDs)
                need = need.dropFirst(chunk.count)
                sendRecord(.want(Array(chunk)), now: now, into: &actions)
            }
            if let reply = result.reply {
                stats.negentropyBytes += reply.count
                sendRecord(.negentropy(reply), now: now, into: &actions)
            } else {
                negentropy = nil
                reconciling = false
                stats.syncRounds += 1
                sendRecord(.syncDone, now: now, into: &actions)
                actions.append(.syncCompleted)
                actions.append(.scheduleTimer(.resync, at: now + settings.resyncMillis))
            }
            pump(into: &actions)
        }
    }

    private mutating func respond(_ message: [UInt8], now: Millis, into actions: inout [Action]) throws(NegentropyError)
    {
        let reply = try negentropy!.respond(to: message)
        stats.negentropyBytes += reply.count
        sendRecord(.negentropy(reply), now: now, into: &actions)
    }

    // MARK: Sending envelopes

    /// A new envelope the node accepted (from the LAN, made here, or from another link): pushed live unless
    /// already queued. Ignored before the link is established (the reconciliation's snapshot, taken after,
    /// holds it).
    public mutating func offer(_ id: EnvelopeID, now: Millis) -> [Action] {
        var actions: [Action] = []
        guard phase == .established else { return actions }
        enqueue(id, live: true)
        pump(into: &actions)
        return actions
    }

    /// The answer to `.fetch`: the requested envelopes the store holds. Each goes out as one record.
    public mutating func fetched(_ envelopes: [StoredEnvelope], now: Millis) -> [Action] {
        var actions: [Action] = []
        guard phase == .established, fetchOutstanding else { return actions }
        fetchOutstanding = false
        for e in envelopes {
            guard let live = fetching[e.id] else { continue }
            fetching[e.id] = nil
            sentCount += 1
            stats.envelopeRecordsOut += 1
            sendRecord(live ? .live(e.bytes) : .envelope(e.bytes), now: now, into: &actions)
        }
        for id in fetching.keys { queued.remove(id) }
        fetching.removeAll()
        pump(into: &actions)
        return actions
    }

    mutating func enqueue(_ id: EnvelopeID, live: Bool) {
        guard !queued.contains(id) else { return }
        guard sendQueue.count - sendQueueHead < settings.maxSendQueue else {
            stats.sendQueueDrops += 1
            return
        }
        queued.insert(id)
        sendQueue.append((id, live))
    }

    /// Asks the shell for the next envelopes to send, as many as the window has room for.
    mutating func pump(into actions: inout [Action]) {
        guard phase == .established, !fetchOutstanding else { return }
        let room = sendWindow - inFlight
        guard room > 0, sendQueueHead < sendQueue.count else { return }
        let end = min(sendQueue.count, sendQueueHead + room)
        var ids: [EnvelopeID] = []
        ids.reserveCapacity(end - sendQueueHead)
        for i in sendQueueHead..<end {
            let item = sendQueue[i]
            fetching[item.id] = item.live
            queued.remove(item.id)
            ids.append(item.id)
        }
        sendQueueHead = end
        if sendQueueHead == sendQueue.count {
            sendQueue.removeAll(keepingCapacity: true)
            sendQueueHead = 0
        } else if sendQueueHead > 4096 && sendQueueHead * 2 > sendQueue.count {
            sendQueue.removeFirst(sendQueueHead)
            sendQueueHead = 0
        }
        fetchOutstanding = true
        actions.append(.fetch(ids))
    }
}
