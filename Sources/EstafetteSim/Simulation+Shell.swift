import EstafetteCore

/// The simulated shell: carries out a node's actions on the simulated network and store, in order.
extension Simulation {
    mutating func execute(_ actions: [MeshNode.Action], at n: Int) {
        for action in actions {
            switch action {
            case .multicast(let datagram, let except):
                let (kind, share) = DatagramKind.classify(datagram, key: config.meshKey)
                for (k, segment) in config.topology.interfaces[n].enumerated() where k != except {
                    metrics.noteTransmission(kind, share: share, segment: segment)
                    if now >= config.settleFrom { metrics.noteBytesAfterSettle(kind, datagram.count) }
                    for member in config.topology.members[segment] where member.node != n {
                        link(datagram, from: n, fromInterface: k, to: member.node, toInterface: member.interface)
                    }
                }
            case .store(let stored, let message):
                onStore(stored, message: message, at: n)
                if relayLayer != nil { pushToLinks(stored.id, from: n) }
            case .deleteExpired(let upTo):
                deleteExpired(at: n, upTo: upTo)
            case .scheduleTimer(let timer, let at):
                schedule(timer, at: at, node: n)
            }
        }
    }

    /// The fate of one datagram between one sender and one receiver: blocked by a partition, lost, or delivered
    /// after a delay (and perhaps a second time).
    mutating func link(_ datagram: [UInt8], from: Int, fromInterface: Int, to: Int, toInterface: Int) {
        if let groups, groups[from] != groups[to] {
            metrics.blocked += 1
            return
        }
        let model = config.link
        metrics.linkAttempts += 1
        if net.chance(model.loss) {
            metrics.lost += 1
            return
        }
        let event = Event.deliver(
            to: Int32(to), toInterface: Int16(toInterface), from: Int32(from), fromInterface: Int16(fromInterface),
            datagram: datagram)
        queue.push(event, at: now + model.baseDelayMillis + net.millis(in: 0...model.jitterMillis))
        if net.chance(model.duplicate) {
            metrics.duplicated += 1
            queue.push(event, at: now + model.baseDelayMillis + net.millis(in: 0...model.jitterMillis))
        }
    }

    mutating func schedule(_ timer: MeshNode.Timer, at: Millis, node n: Int) {
        let t: Int
        if let known = timerNumbers[timer] {
            t = known
        } else {
            t = timers.count
            timers.append(timer)
            timerNumbers[timer] = t
        }
        if timerGenerations[n].count <= t {
            timerGenerations[n] += Array(repeating: 0, count: t + 1 - timerGenerations[n].count)
        }
        timerGenerations[n][t] &+= 1
        queue.push(.timer(node: Int32(n), timer: Int32(t), generation: timerGenerations[n][t]), at: max(at, now))
    }

    mutating func deleteExpired(at n: Int, upTo: UInt64) {
        var kept: [Int] = []
        kept.reserveCapacity(heldList[n].count)
        for e in heldList[n] {
            guard config.injections[e].expiresAt <= upTo else {
                kept.append(e)
                continue
            }
            storeState[n * envelopeCount + e] = 2
            holders[e] -= 1
            if live[e] { missing += 1 }  // deleted before it expired: the node lacks it again
        }
        heldList[n] = kept
    }
}

/// What one node's simulated store holds, read without holding on to the whole simulation (the node being run is
/// mutated while this is alive): the lookup passed with each event.
struct StoreView: EnvelopeLookup {
    let node: Int
    let index: [EnvelopeID: Int]
    let state: [UInt8]
    let injections: [Injection]

    init(sim: Simulation, node: Int) {
        self.node = node
        index = sim.envelopeIndex
        state = sim.storeState
        injections = sim.config.injections
    }

    func envelopes(_ ids: [EnvelopeID]) -> [StoredEnvelope] {
        ids.compactMap { id in
            guard let e = index[id], state[node * injections.count + e] == 1 else { return nil }
            let injection = injections[e]
            return StoredEnvelope(
                id: id, kind: injection.envelope.kind, expiresAt: injection.expiresAt, bytes: injection.encoded)
        }
    }
}
