import EstafetteCore

/// The relay layer's events (`RelayPlan`, `RelayLayer`): links that connect with the daemon's backoff, bytes that
/// cross them in order after a latency, the stores' answers to the machines, and relays that crash and return. A
/// gateway's end is wired as the daemon's `NodeShell` wires it (`NodeShell+Relay`, `+Commit`): what the node
/// stores is offered to its links, what a link delivers goes through `MeshNode.receiveFromLink`, whose accepted
/// submission is stored, then gossiped on the LAN (`afterStore`), then settled.
extension Simulation {
    /// Schedules the first connections and the crashes.
    mutating func scheduleRelays() {
        guard let layer = relayLayer else { return }
        for l in layer.links.indices {
            relayLayer!.links[l].connectPending = true
            queue.push(.relay(.connect(link: l)), at: SimConfig.epoch + layer.plan.latencyMillis)
        }
        for (k, crash) in layer.plan.crashes.enumerated() {
            queue.push(.relay(.crash(k)), at: crash.at)
        }
    }

    mutating func process(_ event: RelayLayer.Event) {
        switch event {
        case .connect(let l):
            relayLayer!.links[l].connectPending = false
            connect(l)
        case .bytes(let l, let epoch, let toInitiator, let bytes):
            guard epoch == relayLayer!.links[l].epoch else { return }
            trace.add(time: now, kind: .relay, node: l, aux: UInt64(bytes.count) << 1 | (toInitiator ? 1 : 0))
            apply(l, initiator: toInitiator, onMachine(l, toInitiator) { [now] in $0.receive(bytes, now: now) })
        case .timer(let l, let epoch, let initiator, let code, let generation):
            let side = initiator ? 0 : 4
            guard epoch == relayLayer!.links[l].epoch, relayLayer!.links[l].timerGenerations[side + code] == generation
            else { return }
            let timer = RelayLayer.timers[code]
            apply(l, initiator: initiator, onMachine(l, initiator) { [now] in $0.timerFired(timer, now: now) })
        case .answer(let l, let epoch, let initiator, let answer):
            guard epoch == relayLayer!.links[l].epoch else {
                // The connection closed before the store answered: a delivery was not committed.
                if case .settle = answer { relayLayer!.metrics.uncommittedLost += 1 }
                return
            }
            answerMachine(l, initiator: initiator, answer)
        case .crash(let k):
            let crash = relayLayer!.plan.crashes[k]
            relayLayer!.pendingFaults -= 1
            trace.add(time: now, kind: .relay, node: crash.relay, aux: 1 << 40)
            queue.push(.relay(.restart(k)), at: now + crash.downMillis)
            guard relayLayer!.up[crash.relay] else { return }
            relayLayer!.up[crash.relay] = false
            for l in relayLayer!.linksOfRelay[crash.relay] {
                relayLayer!.close(l)
                scheduleReconnect(l)
            }
        case .restart(let k):
            let relay = relayLayer!.plan.crashes[k].relay
            relayLayer!.pendingFaults -= 1
            trace.add(time: now, kind: .relay, node: relay, aux: 2 << 40)
            relayLayer!.up[relay] = true
        }
    }

    /// Opens link `l` when both ends are up (the other end refuses the connection otherwise: try again later).
    private mutating func connect(_ l: Int) {
        let link = relayLayer!.links[l]
        guard link.initiator == nil else { return }
        guard relayLayer!.isUp(link.initiatorEnd), relayLayer!.up[link.responder] else {
            relayLayer!.metrics.refusedAttempts += 1
            scheduleReconnect(l)
            return
        }
        relayLayer!.metrics.connections += 1
        relayLayer!.links[l].epoch += 1
        let identity = relayLayer!.identities[link.responder]
        let localRole: RelayHello.Role = link.isRelayLink ? .relay : .node
        let settings = relayLayer!.plan.linkSettings
        do {
            relayLayer!.links[l].initiator = try RelayLinkStateMachine(
                initiatorWithLinkKey: NoiseKeyPair.generate(), relay: identity.publicKey, localRole: localRole,
                settings: settings)
        } catch {
            preconditionFailure("a relay identity has no X25519 form: \(error)")
        }
        relayLayer!.links[l].responderMachine = RelayLinkStateMachine(
            responderWithIdentity: identity, settings: settings)
        apply(l, initiator: false, onMachine(l, false) { [now] in $0.start(now: now) })
        apply(l, initiator: true, onMachine(l, true) { [now] in $0.start(now: now) })
    }

    /// The side that links out tries again after its backoff delay.
    private mutating func scheduleReconnect(_ l: Int) {
        guard !relayLayer!.links[l].connectPending else { return }
        let random = relayLayer!.rng.unit()
        let delay = relayLayer!.links[l].backoff.next(random: random)
        relayLayer!.links[l].connectPending = true
        queue.push(.relay(.connect(link: l)), at: now + delay)
    }

    /// Runs `body` on one side's machine; no actions when the link is down.
    private mutating func onMachine(
        _ l: Int, _ initiator: Bool, _ body: (inout RelayLinkStateMachine) -> [RelayLinkStateMachine.Action]
    ) -> [RelayLinkStateMachine.Action] {
        if initiator {
            guard relayLayer!.links[l].initiator != nil else { return [] }
            return body(&relayLayer!.links[l].initiator!)
        }
        guard relayLayer!.links[l].responderMachine != nil else { return [] }
        return body(&relayLayer!.links[l].responderMachine!)
    }

    /// Carries out one side's actions, as the daemon's `RelayLinkHandler` does.
    private mutating func apply(_ l: Int, initiator: Bool, _ actions: [RelayLinkStateMachine.Action]) {
        let epoch = relayLayer!.links[l].epoch
        let plan = relayLayer!.plan
        for action in actions where relayLayer!.links[l].epoch == epoch {
            switch action {
            case .send(let bytes):
                // Latency plus serialisation at 100 Mbit/s, never before what was sent earlier the same way.
                let way = initiator ? 0 : 1
                let at = max(
                    now + plan.latencyMillis + Millis(bytes.count / 12_500), relayLayer!.links[l].lastArrival[way])
                relayLayer!.links[l].lastArrival[way] = at
                queue.push(.relay(.bytes(link: l, epoch: epoch, toInitiator: !initiator, bytes)), at: at)
            case .scheduleTimer(let timer, let at):
                let code = RelayLayer.code(timer)
                let slot = (initiator ? 0 : 4) + code
                relayLayer!.links[l].timerGenerations[slot] &+= 1
                let generation = relayLayer!.links[l].timerGenerations[slot]
                queue.push(
                    .relay(.timer(link: l, epoch: epoch, initiator: initiator, code: code, generation: generation)),
                    at: max(at, now))
            case .established:
                if initiator { relayLayer!.links[l].backoff.reset() }
            case .requestSnapshot:
                queue.push(.relay(.answer(link: l, epoch: epoch, initiator: initiator, .snapshot)), at: now)
            case .fetch(let ids):
                queue.push(.relay(.answer(link: l, epoch: epoch, initiator: initiator, .fetch(ids))), at: now + 1)
            case .deliver(let bytes, let sequence):
                queue.push(
                    .relay(.answer(link: l, epoch: epoch, initiator: initiator, .settle(sequence: sequence, bytes))),
                    at: now + plan.commitDelayMillis)
            case .syncCompleted:
                break
            case .close:
                relayLayer!.metrics.closedByMachine += 1
                relayLayer!.close(l)
                scheduleReconnect(l)
            }
        }
    }

    /// A store's answer to a machine: a snapshot, fetched envelopes, or the commit of a delivered envelope.
    private mutating func answerMachine(_ l: Int, initiator: Bool, _ answer: RelayLayer.Answer) {
        let end = relayLayer!.end(l, initiator: initiator)
        switch (answer, end) {
        case (.snapshot, .relay(let r)):
            let records = relayLayer!.records(relay: r, now: now)
            apply(l, initiator: initiator, onMachine(l, initiator) { [now] in $0.snapshot(records, now: now) })
        case (.snapshot, .node(let n)):
            let records = nodes[n].linkRecords(now: now)
            apply(l, initiator: initiator, onMachine(l, initiator) { [now] in $0.snapshot(records, now: now) })
        case (.fetch(let ids), .relay(let r)):
            let found = ids.compactMap { relayLayer!.stores[r][$0] }
            apply(l, initiator: initiator, onMachine(l, initiator) { [now] in $0.fetched(found, now: now) })
        case (.fetch(let ids), .node(let n)):
            let found = StoreView(sim: self, node: n).envelopes(ids)
            apply(l, initiator: initiator, onMachine(l, initiator) { [now] in $0.fetched(found, now: now) })
        case (.settle(let sequence, let bytes), .relay(let r)):
            let result = commitAtRelay(bytes, relay: r, origin: l)
            apply(
                l, initiator: initiator,
                onMachine(l, initiator) { [now] in $0.settled(sequence: sequence, result, now: now) })
        case (.settle(let sequence, let bytes), .node(let n)):
            let result: RelayLinkStateMachine.Settlement
            switch nodes[n].receiveFromLink(bytes, now: now) {
            case .accepted(let submission):
                // Stored (and so offered to the node's other links), then gossiped on the LAN, then settled.
                linkOrigin = l
                execute(submission.actions, at: n)
                linkOrigin = nil
                notePeak(n)
                result = .committedNew
            case .duplicate:
                result = .duplicate
            case .rejected:
                result = .refused
            }
            apply(
                l, initiator: initiator,
                onMachine(l, initiator) { [now] in $0.settled(sequence: sequence, result, now: now) })
        }
    }

    /// A relay commits an envelope a link delivered (validated as a relay does: it must decode and be unexpired)
    /// and pushes it to its other links.
    private mutating func commitAtRelay(
        _ bytes: [UInt8], relay r: Int, origin: Int
    ) -> RelayLinkStateMachine.Settlement {
        let id = EnvelopeID(ofEncoded: bytes)
        guard relayLayer!.stores[r][id] == nil else { return .duplicate }
        guard let e = try? Envelope(decoding: bytes), e.expiresAt > UInt64(now / 1000) else { return .refused }
        relayLayer!.stores[r][id] = StoredEnvelope(id: id, kind: e.kind, expiresAt: e.expiresAt, bytes: bytes)
        for other in relayLayer!.linksOfRelay[r] where other != origin {
            let initiator = relayLayer!.links[other].initiatorEnd == .relay(r)
            apply(other, initiator: initiator, onMachine(other, initiator) { [now] in $0.offer(id, now: now) })
        }
        return .committedNew
    }

    /// A gateway stored `id` (from its LAN, made locally, or from a link): pushed to its links but the one it
    /// came from, as `NodeShell.pushToRelays` does after each commit.
    mutating func pushToLinks(_ id: EnvelopeID, from n: Int) {
        guard let links = relayLayer?.linksOfNode[n] else { return }
        for l in links where l != linkOrigin {
            apply(l, initiator: true, onMachine(l, true) { [now] in $0.offer(id, now: now) })
        }
    }
}
