import EstafetteCore

/// Invariants. Cheap ones are checked at every `.store`; the rest at convergence and at the end of the run.
extension Simulation {
    /// Every store is of an envelope that was injected, byte for byte, that decodes, that has not expired, and that
    /// the node does not already hold; a message is delivered at most once per node, and every alert is delivered
    /// with its text.
    mutating func onStore(_ stored: StoredEnvelope, message: ReceivedMessage?, at n: Int) {
        guard let e = envelopeIndex[stored.id] else {
            fail("node n\(n) stored envelope \(stored.id) that was never injected")
            return
        }
        trace.add(time: now, kind: .store, node: n, aux: UInt64(e))
        let injection = config.injections[e]
        guard stored.bytes == injection.encoded else {
            fail("node n\(n) stored envelope #\(e) with bytes that differ from the injected ones")
            return
        }
        do {
            _ = try Envelope(decoding: stored.bytes)
        } catch {
            fail("node n\(n) stored envelope #\(e), which does not decode: \(error)")
            return
        }
        let nowSeconds = UInt64(now / 1000)
        guard stored.expiresAt == injection.expiresAt, stored.expiresAt > nowSeconds else {
            fail("node n\(n) stored envelope #\(e), expired at \(stored.expiresAt) (now \(nowSeconds))")
            return
        }
        let slot = n * envelopeCount + e
        guard storeState[slot] != 1 else {
            fail("node n\(n) stored envelope #\(e) twice")
            return
        }
        storeState[slot] = 1
        heldList[n].append(e)
        holders[e] += 1
        if live[e] { missing -= 1 }
        if holders[e] == nodes.count, metrics.spreadMillis[e] == nil {
            metrics.spreadMillis[e] = now - injection.at
        }
        metrics.stores += 1

        if let message {
            guard !delivered[slot] else {
                fail("node n\(n) delivered envelope #\(e) twice")
                return
            }
            delivered[slot] = true
            metrics.messagesDelivered += 1
            guard let text = injection.alertText, message.kind == .alert, message.id == stored.id, message.text == text
            else {
                fail("node n\(n) delivered a message for envelope #\(e) that is not the injected alert")
                return
            }
        } else if injection.isAlert {
            fail("node n\(n) stored alert #\(e) without delivering it")
        }
    }

    /// At convergence: every node has been shown every unexpired alert.
    mutating func checkConverged() {
        for e in 0..<envelopeCount where live[e] && config.injections[e].isAlert {
            for n in 0..<nodes.count where !delivered[n * envelopeCount + e] {
                fail("converged, but node n\(n) was never shown alert #\(e)")
                return
            }
        }
    }

    /// At the end: no node still holds an envelope that expired longer than a sweep ago, and the scenario's own
    /// checks.
    mutating func checkEnd() {
        let cutoffSeconds = UInt64((now - config.sweepSlackMillis) / 1000)
        for (e, injection) in config.injections.enumerated() where injection.expiresAt <= cutoffSeconds {
            for n in 0..<nodes.count where nodes[n].holds(injection.id) || storeState[n * envelopeCount + e] == 1 {
                fail("node n\(n) still holds envelope #\(e), expired at \(injection.expiresAt)")
                return
            }
        }
        for check in config.endChecks {
            switch check {
            case .peakEnvelopesAtMost(let bound):
                if let (n, peak) = metrics.worst(\.envelopes), peak > bound {
                    fail("node n\(n) held \(peak) envelopes at once, above the bound \(bound)")
                }
            case .reassemblyBytesAtMost(let bound):
                if let (n, peak) = metrics.worst(\.reassemblyBytes), peak > bound {
                    fail("node n\(n) held \(peak) bytes of partial envelopes, above the bound \(bound)")
                }
            case .peersAtMost(let bound):
                if let (n, peak) = metrics.worst(\.peers), peak > bound {
                    fail("node n\(n) knew \(peak) peers, above the bound \(bound)")
                }
            case .neverStoredExpired(let node, let expiredBy):
                for (e, injection) in config.injections.enumerated()
                where Millis(injection.expiresAt) * 1000 <= expiredBy && everStored(node: node, envelope: e) {
                    let before = formatMillis(expiredBy - SimConfig.epoch)
                    fail("node n\(node) stored envelope #\(e), which expired before t=\(before)")
                    break
                }
            }
        }
    }

    /// How far from convergence the run is, with an example.
    func describeMissing() -> String {
        var example = ""
        var lacking = 0
        for e in 0..<envelopeCount where live[e] {
            for n in 0..<nodes.count where storeState[n * envelopeCount + e] != 1 {
                if lacking == 0 { example = "e.g. node n\(n) lacks envelope #\(e)" }
                lacking += 1
            }
        }
        let notInjected = envelopeCount - injected
        return "\(lacking) (node, envelope) pairs missing, \(notInjected) envelopes not injected yet; \(example)"
    }
}
