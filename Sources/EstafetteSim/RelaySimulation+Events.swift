import EstafetteCore

extension RelaySimulation {
    mutating func handle(_ event: Event) {
        switch event {
        case .inject(let relay, let e):
            guard up[relay] else {
                // The island keeps it; its relay hears it on the LAN once it is back.
                queue.push(.inject(relay: relay, envelope: e), at: now + config.downMillis)
                return
            }
            injected += 1
            accept(envelopes[e], at: relay, origin: nil)
        case .crash(let relay):
            guard up[relay] else { return }
            up[relay] = false
            for l in links.indices where links[l].a == relay || links[l].b == relay { closeLink(l) }
            queue.push(.restart(relay), at: now + config.downMillis)
        case .restart(let relay):
            up[relay] = true
            for l in links.indices where links[l].a == relay || links[l].b == relay {
                queue.push(.connect(link: l), at: now + config.reconnectMillis)
            }
        case .connect(let l):
            let (a, b) = (links[l].a, links[l].b)
            guard up[a], up[b], links[l].initiator == nil else { return }
            links[l].epoch += 1
            do {
                links[l].initiator = try RelayLinkStateMachine(
                    initiatorWithLinkKey: NoiseKeyPair.generate(), relay: identities[b].publicKey, localRole: .relay)
            } catch {
                preconditionFailure("a relay identity has no X25519 form: \(error)")
            }
            links[l].responder = RelayLinkStateMachine(responderWithIdentity: identities[b])
            apply(l, initiator: false, links[l].responder!.start(now: now))
            apply(l, initiator: true, links[l].initiator!.start(now: now))
        case .bytes(let l, let epoch, let toInitiator, let bytes):
            guard epoch == links[l].epoch else { return }
            apply(l, initiator: toInitiator, mutate(l, toInitiator) { [now] in $0.receive(bytes, now: now) })
        case .timer(let l, let epoch, let initiator, let timer):
            guard epoch == links[l].epoch else { return }
            apply(l, initiator: initiator, mutate(l, initiator) { [now] in $0.timerFired(timer, now: now) })
        case .answer(let l, let epoch, let initiator, let answer):
            guard epoch == links[l].epoch else { return }
            let relay = initiator ? links[l].a : links[l].b
            switch answer {
            case .snapshot:
                let records = stores[relay].values.map { NegentropyRecord(timestamp: $0.expiresAt, id: $0.id) }
                apply(l, initiator: initiator, mutate(l, initiator) { [now] in $0.snapshot(records, now: now) })
            case .fetch(let ids):
                let found = ids.compactMap { stores[relay][$0] }
                apply(l, initiator: initiator, mutate(l, initiator) { [now] in $0.fetched(found, now: now) })
            case .settle(let sequence, let bytes):
                let id = EnvelopeID(ofEncoded: bytes)
                let new = stores[relay][id] == nil
                if new, let e = try? Envelope(decoding: bytes) {
                    accept(
                        StoredEnvelope(id: id, kind: e.kind, expiresAt: e.expiresAt, bytes: bytes), at: relay, origin: l
                    )
                }
                let result: RelayLinkStateMachine.Settlement = new ? .committedNew : .duplicate
                apply(
                    l, initiator: initiator,
                    mutate(l, initiator) { [now] in $0.settled(sequence: sequence, result, now: now) })
            }
        }
    }

    /// Runs `body` on one side's machine; no actions when the link is down.
    private mutating func mutate(
        _ l: Int, _ initiator: Bool, _ body: (inout RelayLinkStateMachine) -> [RelayLinkStateMachine.Action]
    ) -> [RelayLinkStateMachine.Action] {
        if initiator {
            guard links[l].initiator != nil else { return [] }
            return body(&links[l].initiator!)
        }
        guard links[l].responder != nil else { return [] }
        return body(&links[l].responder!)
    }

    /// A relay commits a new envelope and pushes it to its other links.
    mutating func accept(_ e: StoredEnvelope, at relay: Int, origin: Int?) {
        stores[relay][e.id] = e
        for l in links.indices where l != origin && (links[l].a == relay || links[l].b == relay) {
            let initiator = links[l].a == relay
            apply(l, initiator: initiator, mutate(l, initiator) { [now] in $0.offer(e.id, now: now) })
        }
    }

    mutating func apply(_ l: Int, initiator: Bool, _ actions: [RelayLinkStateMachine.Action]) {
        let epoch = links[l].epoch
        for action in actions where links[l].epoch == epoch {
            switch action {
            case .send(let bytes):
                // Latency plus serialisation at 100 Mbit/s.
                let at = now + config.latencyMillis + Int64(bytes.count / 12_500)
                queue.push(.bytes(link: l, epoch: epoch, toInitiator: !initiator, bytes), at: at)
            case .scheduleTimer(let timer, let at):
                queue.push(.timer(link: l, epoch: epoch, initiator: initiator, timer), at: at)
            case .established:
                break
            case .requestSnapshot:
                queue.push(.answer(link: l, epoch: epoch, initiator: initiator, .snapshot), at: now)
            case .fetch(let ids):
                queue.push(.answer(link: l, epoch: epoch, initiator: initiator, .fetch(ids)), at: now + 1)
            case .deliver(let bytes, let sequence):
                queue.push(
                    .answer(link: l, epoch: epoch, initiator: initiator, .settle(sequence, bytes)),
                    at: now + config.commitDelayMillis)
            case .syncCompleted:
                if initiator { rounds += 1 }
            case .close:
                closeLink(l)
                queue.push(.connect(link: l), at: now + config.reconnectMillis)
            }
        }
    }

    /// Drops both machines of a link (their counters are kept).
    mutating func closeLink(_ l: Int) {
        for m in [links[l].initiator, links[l].responder].compactMap({ $0 }) {
            linkBytes += m.stats.bytesOut
            records += m.stats.envelopeRecordsOut
        }
        links[l].initiator = nil
        links[l].responder = nil
        links[l].epoch += 1
    }
}
