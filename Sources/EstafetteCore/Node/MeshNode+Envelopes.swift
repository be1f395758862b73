/// Validation of every envelope, local or received, and the index of the IDs held.
extension MeshNode {
    mutating func onEnvelopeBytes(
        _ bytes: [UInt8], from address: PeerAddress, now: Millis, into actions: inout [Action]
    ) {
        switch accept(bytes, now: now, from: address) {
        case .accepted(let stored, let message):
            counters.add("envelopes_new")
            actions.append(.store(stored, message: message))
            // Bridge LAN segments: pass a new envelope on to our other interfaces.
            if bridgesInterfaces {
                for d in datagrams(forEncoded: bytes, id: stored.id) {
                    actions.append(.multicast(d, except: address.interface))
                }
            }
            learnForDecoding(stored, from: address, now: now, into: &actions)
        case .duplicate:
            counters.add("envelopes_duplicate")
            // Someone else is repairing it: our burst need not.
            if repair.burst != nil { noteRepairHeard([EnvelopeID(ofEncoded: bytes).prefix]) }
        case .rejected(let reason):
            counters.add("drop.\(reason)")
        }
    }

    mutating func onReassembly(
        _ outcome: Reassembler.Outcome, stream: UInt64, from address: PeerAddress, now: Millis,
        into actions: inout [Action]
    ) {
        switch outcome {
        case .complete(let bytes):
            guard EnvelopeID(ofEncoded: bytes).prefix == stream else {
                counters.add("drop.fragment_mismatch")
                return
            }
            onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
        case .pending:
            break
        case .dropped(let reason):
            counters.add("drop.\(reason)")
        }
    }

    enum Acceptance: Equatable {
        case accepted(StoredEnvelope, ReceivedMessage?)
        case duplicate
        case rejected(String)
    }

    /// Validates an encoded envelope; on success records its ID (only then: dedup state follows validation).
    /// `address` is where it came from on the LAN (nil for one made here): it is charged to the budgets of that
    /// address's `source`,
    /// and its times are evidence about our clock. `tryOpening: false` skips the trial decryption of a direct
    /// message (a local one that cannot be for us).
    ///
    /// The checks run cheapest first, so that junk beyond a source's budget costs a decode and a hash, never a
    /// signature check, a trial decryption or a store write (issue 9, property 2).
    mutating func accept(
        _ bytes: [UInt8], now: Millis, from address: PeerAddress? = nil, tryOpening: Bool = true
    ) -> Acceptance {
        let envelope: Envelope
        do {
            envelope = try Envelope(decoding: bytes)
        } catch {
            return .rejected(error.reason)
        }
        let id = EnvelopeID(ofEncoded: bytes)
        if index.contains(id) { return .duplicate }
        // Another envelope with this ID's prefix is held: inventories and streams could not tell them apart
        // (EnvelopeIndex).
        if index.hasPrefix(id.prefix) { return .rejected("prefix_collision") }
        let source = address?.source  // built only past the duplicate check: most envelopes heard are duplicates
        let nowSec = UInt64(max(0, now / 1000))
        let latest = nowSec + Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds
        guard envelope.expiresAt > nowSec else {
            noteClock(skew: Int64(clamping: nowSec - envelope.expiresAt), source: source)
            return .rejected("expired")
        }
        guard envelope.expiresAt <= latest else {
            noteClock(skew: -Int64(clamping: envelope.expiresAt - latest), source: source)
            return .rejected("expiry_too_far")
        }
        if envelope.kind == .direct {
            do {
                try DirectMessage.headerCheck(envelope)
            } catch {
                return .rejected(error.reason)
            }
        }
        if let source, let refused = guards.admit(size: bytes.count, from: source, now: now) {
            return .rejected(refused)
        }
        var message: ReceivedMessage? = nil
        switch envelope.kind {
        case .direct where !tryOpening:
            message = nil
        case .direct:
            do {
                message = try DirectMessage.open(envelope, id: id, with: identity, keys: &keys)
                if let m = message, let acknowledged = m.acknowledges {
                    message = judgeReceipt(m, acknowledging: acknowledged)
                }
            } catch let e where e == .notForUs {
                message = nil  // someone else's: carry it
            } catch {
                // Addressed to us but forged or tampered with: never shown. It is still held like any envelope,
                // because the nodes that carry it cannot tell it is bad; refusing it here would leave our
                // digest different from theirs and re-fetch it every round until it expires.
                counters.add("drop.\(error.reason)")
                message = nil
            }
        case .alert:
            do {
                message = try Alert.verify(envelope, id: id)
            } catch {
                return .rejected(error.reason)
            }
            if let m = message, let refused = alertTimeProblem(m, nowSec: nowSec, source: source) {
                return .rejected(refused)
            }
            if let m = message, let hidden = judgeAlert(m, now: now, local: source == nil) {
                counters.add("drop.\(hidden)")
                message = nil  // carried like any envelope, not shown: see `AlertAuthors`
            }
        case .channel:
            message = openChannelPost(envelope, id: id)
        case .receipt:
            message = nil  // kind 4 is unused (receipts are direct messages): carried, never read
        }
        noteClock(skew: nil, source: source)
        insertIndex(id, expiresAt: envelope.expiresAt)
        if bytes.count > Packet.maxPayloadBytes { noteLongEnvelope(id, now: now) }
        if let m = message, m.acknowledges == nil { counters.add("messages_delivered") }
        return .accepted(
            StoredEnvelope(id: id, kind: envelope.kind, expiresAt: envelope.expiresAt, bytes: bytes), message)
    }

    /// Why an alert's creation time cannot be right, or nil: created after it expires, longer-lived than any
    /// envelope may be (made far in the past and given a fresh expiry), or created beyond the clock skew in our
    /// future. These depend on nothing but the alert and the clock, so every node refuses it alike.
    mutating func alertTimeProblem(_ m: ReceivedMessage, nowSec: UInt64, source: String?) -> String? {
        if m.createdAt > nowSec + Envelope.clockSkewSeconds {
            noteClock(skew: -Int64(clamping: m.createdAt - nowSec), source: source)
            return "alert_from_future"
        }
        // Senders round the expiry down to the minute: a lifetime may be short of the maximum, never beyond it.
        guard m.createdAt <= m.expiresAt, m.expiresAt - m.createdAt <= Envelope.maxLifetimeSeconds else {
            return "alert_lifetime"
        }
        return nil
    }

    /// Whether an alert may be shown (nil) or why not; alerts made here are recorded, never held back.
    mutating func judgeAlert(_ m: ReceivedMessage, now: Millis, local: Bool) -> String? {
        let verdict = guards.authors.judge(m, now: now)
        return local ? nil : verdict
    }

    /// One envelope's time, as evidence about our clock (only envelopes from the LAN count).
    mutating func noteClock(skew: Int64?, source: String?) {
        guard let source else { return }
        guards.clock.record(skew: skew, source: source)
    }

    /// What this node can tell about its own clock from the envelopes it hears (`node.status`).
    public var clockStatus: ClockMonitor.Status { guards.clock.status }

    // MARK: - Index

    mutating func insertIndex(_ id: EnvelopeID, expiresAt: UInt64) {
        guard index.insert(id, expiresAt: expiresAt) == .inserted else { return }
        digest = digest ^ id
        sortedPrefixCache = nil
        rangeCache = nil
    }

    mutating func removeIndex(_ id: EnvelopeID) {
        guard index.remove(id) else { return }
        digest = digest ^ id
        sortedPrefixCache = nil
        rangeCache = nil
    }

    mutating func sortedPrefixes() -> [UInt64] {
        if let c = sortedPrefixCache { return c }
        let s = index.sortedPrefixes()
        sortedPrefixCache = s
        return s
    }
}

extension MeshNode {
    /// The shell deleted these stored envelopes to keep its store within its quota: forget their IDs, so that the
    /// digest says what the node really holds (they may be fetched again while there is room).
    public mutating func evicted(_ ids: [EnvelopeID]) {
        var n: Int64 = 0
        for id in ids where index.contains(id) {
            removeIndex(id)
            n += 1
        }
        if n > 0 { counters.add("envelopes_evicted", n) }
    }
}
