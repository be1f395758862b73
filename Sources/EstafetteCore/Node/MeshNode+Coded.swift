import NIOCore

/// Coded repair: sending a burst, and solving the coded packets received. See `CodedRepair` and `CodedDecoder`.
extension MeshNode {
    /// Multicasts a repair burst: the envelopes `ids` (sorted), read from the store, as `CodedRepair` packs them
    /// for receivers lacking at most `need` each; the long ones in `parityOnly` as a few parities.
    mutating func sendBurst(
        ids: [EnvelopeID], need: Int, parityOnly: Set<EnvelopeID>, rng: inout SplitMix64,
        store: some EnvelopeLookup, into actions: inout [Action]
    ) {
        let envelopes = store.envelopes(ids).sorted { $0.id < $1.id }
        if envelopes.count < ids.count {
            counters.add("repair_envelopes_unavailable", Int64(ids.count - envelopes.count))
        }
        let packets = CodedRepair.packets(
            for: envelopes.map { (id: $0.id, bytes: $0.bytes) }, need: need, parityOnly: parityOnly, rng: &rng)
        for p in packets {
            if case .coded = p { counters.add("coded_sent") } else { counters.add("whole_repairs_sent") }
            actions.append(.multicast(meshKey.seal(p, session: session), except: nil))
        }
    }

    mutating func onCoded(
        members: [UInt64], coefficients: [UInt8], payload: [UInt8], from address: PeerAddress, now: Millis,
        store: some EnvelopeLookup, into actions: inout [Action]
    ) {
        noteRepairHeard(members)
        var unknowns: [UInt64: UInt8] = [:]
        var held: [(id: EnvelopeID, coefficient: UInt8)] = []
        for (p, c) in zip(members, coefficients) {
            if let id = byPrefix[p] { held.append((id, c)) } else { unknowns[p] = c }
        }
        guard !unknowns.isEmpty else {
            counters.add("coded_redundant")
            return
        }
        var payload = payload
        if !held.isEmpty {
            var bytes: [EnvelopeID: [UInt8]] = [:]
            for e in store.envelopes(held.map(\.id)) { bytes[e.id] = e.bytes }
            for (id, c) in held {
                guard let b = bytes[id] else {
                    counters.add("drop.coded_member_unavailable")
                    return
                }
                guard b.count <= payload.count else {
                    counters.add("drop.coded_member_too_long")
                    return
                }
                GF256.addScaled(b, times: c, into: &payload)
            }
        }
        switch repair.decoder.add(unknowns, payload: payload, now: now) {
        case .redundant:
            counters.add("coded_redundant")
        case .full:
            counters.add("drop.coded_decoder_full")
        case .added(let solved):
            counters.add("coded_useful")
            deliver(solved, from: address, now: now, into: &actions)
        }
    }

    /// Another node's burst is repairing these: ours leaves them out (its sender heard the same wants).
    mutating func noteRepairHeard(_ prefixes: [UInt64]) {
        guard var burst = repair.burst else { return }
        for p in prefixes {
            if let id = byPrefix[p], burst.ids.remove(id) != nil { counters.add("repairs_suppressed") }
        }
        repair.burst = burst.ids.isEmpty ? nil : burst
    }

    /// An envelope we now hold may be a member of coded packets still being solved.
    mutating func learnForDecoding(
        _ stored: StoredEnvelope, from address: PeerAddress?, now: Millis, into actions: inout [Action]
    ) {
        guard !repair.decoder.isEmpty else { return }
        let solved = repair.decoder.learn(stored.id.prefix, bytes: stored.bytes, now: now)
        deliver(solved, from: address ?? PeerAddress(host: "local", port: 0, interface: -1), now: now, into: &actions)
    }

    /// Solved unknowns: each must be a whole envelope, zero-padded, whose ID has the prefix it was solved for.
    /// Anything else means a coded packet was wrong, and everything solved from it is suspect: start over.
    mutating func deliver(
        _ solved: [CodedDecoder.Solved], from address: PeerAddress, now: Millis, into actions: inout [Action]
    ) {
        for s in solved {
            guard let bytes = Self.unpadded(s.bytes), EnvelopeID(ofEncoded: bytes).prefix == s.prefix else {
                counters.add("drop.coded_mismatch")
                repair.decoder.reset()
                return
            }
            counters.add("envelopes_decoded")
            onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
        }
    }

    /// The envelope at the start of `padded`, if exactly one is there followed only by zeros.
    static func unpadded(_ padded: [UInt8]) -> [UInt8]? {
        var buf = ByteBuffer(bytes: padded)
        guard (try? buf.readEnvelope()) != nil, buf.readableBytesView.allSatisfy({ $0 == 0 }) else { return nil }
        return Array(padded[..<(padded.count - buf.readableBytes)])
    }
}
