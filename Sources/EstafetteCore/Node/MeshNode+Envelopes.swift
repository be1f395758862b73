/// Validation of every envelope, local or received, and the index of the IDs held.
extension MeshNode {
    mutating func onEnvelopeBytes(
        _ bytes: [UInt8], from address: PeerAddress, now: Millis, into actions: inout [Action]
    ) {
        switch accept(bytes, now: now) {
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

    enum Acceptance {
        case accepted(StoredEnvelope, ReceivedMessage?)
        case duplicate
        case rejected(String)
    }

    /// Validates an encoded envelope; on success records its ID (only then: dedup state follows validation).
    /// `tryOpening: false` skips the trial decryption of a direct message (a local one that cannot be for us).
    mutating func accept(_ bytes: [UInt8], now: Millis, tryOpening: Bool = true) -> Acceptance {
        let envelope: Envelope
        do {
            envelope = try Envelope(decoding: bytes)
        } catch {
            return .rejected(error.reason)
        }
        let id = EnvelopeID(ofEncoded: bytes)
        if index[id] != nil { return .duplicate }
        let nowSec = UInt64(max(0, now / 1000))
        guard envelope.expiresAt > nowSec else { return .rejected("expired") }
        guard envelope.expiresAt <= nowSec + Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds else {
            return .rejected("expiry_too_far")
        }
        var message: ReceivedMessage? = nil
        switch envelope.kind {
        case .direct where !tryOpening:
            message = nil
        case .direct:
            do {
                message = try DirectMessage.open(envelope, id: id, with: identity, keys: &keys)
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
        case .channel, .receipt:
            message = nil  // carried, not yet read by this version
        }
        insertIndex(id, expiresAt: envelope.expiresAt)
        if bytes.count > Packet.maxPayloadBytes { noteLongEnvelope(id, now: now) }
        if message != nil { counters.add("messages_delivered") }
        return .accepted(
            StoredEnvelope(id: id, kind: envelope.kind, expiresAt: envelope.expiresAt, bytes: bytes), message)
    }

    // MARK: - Index

    mutating func insertIndex(_ id: EnvelopeID, expiresAt: UInt64) {
        guard index.updateValue(expiresAt, forKey: id) == nil else { return }
        byPrefix[id.prefix] = id
        digest = digest ^ id
        sortedPrefixCache = nil
    }

    mutating func removeIndex(_ id: EnvelopeID) {
        guard index.removeValue(forKey: id) != nil else { return }
        if byPrefix[id.prefix] == id { byPrefix[id.prefix] = nil }
        digest = digest ^ id
        sortedPrefixCache = nil
    }

    mutating func sortedPrefixes() -> [UInt64] {
        if let c = sortedPrefixCache { return c }
        let s = byPrefix.keys.sorted()
        sortedPrefixCache = s
        return s
    }
}
