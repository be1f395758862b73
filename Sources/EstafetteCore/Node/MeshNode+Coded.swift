import NIOCore

/// Coded repair: sending a burst, and solving the coded packets received. See `CodedRepair` and `CodedDecoder`.
extension MeshNode {
    /// Most times a burst whose requesters cannot pay for all of it is put off for the rest.
    static let maxBurstRetries = 8

    /// Multicasts a repair burst: of the envelopes `ids` (sorted), read from the store, those that a source that
    /// asked for them (`askedBy`) can pay for (`answers`, charged a bound on their datagrams: bytes, each
    /// datagram's overhead, and a parity for a long one), packed by `CodedRepair` for receivers lacking at most
    /// `need` each (the long ones in `parityOnly` as a few parities). Returns the envelopes left out, unpaid.
    mutating func sendBurst(
        ids: [EnvelopeID], need: Int, parityOnly: Set<EnvelopeID>, askedBy: [EnvelopeID: [String]],
        rng: inout SplitMix64, now: Millis, store: some EnvelopeLookup, into actions: inout [Action]
    ) -> [EnvelopeID] {
        let envelopes = store.envelopes(ids).sorted { $0.id < $1.id }
        if envelopes.count < ids.count {
            counters.add("repair_envelopes_unavailable", Int64(ids.count - envelopes.count))
        }
        var paid: [StoredEnvelope] = []
        var unpaid: [EnvelopeID] = []
        for e in envelopes {
            let pieces = 1 + e.bytes.count / Packet.maxChunkBytes
            let cost = e.bytes.count + 80 * pieces + (pieces > 1 ? Packet.maxDatagramBytes : 0)
            if let payer = (askedBy[e.id] ?? []).first(where: {
                repair.answers.available(to: $0, now: now) >= Double(cost)
            }), repair.answers.spend(Double(cost), from: payer, now: now) {
                paid.append(e)
            } else {
                unpaid.append(e.id)
            }
        }
        let packets = CodedRepair.packets(
            for: paid.map { (id: $0.id, bytes: $0.bytes) }, need: need, parityOnly: parityOnly, rng: &rng)
        for p in packets {
            if case .coded = p { counters.add("coded_sent") } else { counters.add("whole_repairs_sent") }
            actions.append(.multicast(meshKey.seal(p, session: session), except: nil))
        }
        if !unpaid.isEmpty { counters.add("answers_put_off", Int64(unpaid.count)) }
        return unpaid
    }

    /// A coded packet: its members we hold are read from the store and subtracted, the rest go to the decoder
    /// of its source. Bounded work: each member costs its source one unit of `codedWork`; a distrusted source's
    /// packets are refused unread.
    mutating func onCoded(
        members: [UInt64], coefficients: [UInt8], payload: [UInt8], from address: PeerAddress, now: Millis,
        store: some EnvelopeLookup, into actions: inout [Action]
    ) {
        let source = address.source
        guard repair.junk.trusts(source, now: now) else {
            counters.add("drop.coded_distrusted")
            return
        }
        guard repair.codedWork.spend(Double(members.count + 1), from: source, now: now) else {
            counters.add("drop.coded_budget")
            return
        }
        var unknowns: [UInt64: UInt8] = [:]
        var held: [(id: EnvelopeID, coefficient: UInt8)] = []
        for (p, c) in zip(members, coefficients) {
            if let id = index.id(prefix: p) { held.append((id, c)) } else { unknowns[p] = c }
        }
        let suppresses = repair.burst.map { b in held.contains { b.ids.contains($0.id) } } ?? false
        guard !unknowns.isEmpty || suppresses else {
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
                    provenJunk(from: source, now: now)
                    return
                }
                GF256.addScaled(b, times: c, into: &payload)
            }
        }
        guard !unknowns.isEmpty else {
            // Every member is one we hold: what is left must be zero, or the packet was junk. A true one means
            // someone else is repairing these, so our burst need not.
            guard payload.allSatisfy({ $0 == 0 }) else {
                counters.add("drop.coded_mismatch")
                provenJunk(from: source, now: now)
                return
            }
            counters.add("coded_redundant")
            noteRepairHeard(members)
            return
        }
        // The shared decoder combines rows from every source we believe (a burst and the next one's, from
        // another node, solve together); junk there costs only the shared decoder. Each source's own decoder
        // solves its rows whatever others sent.
        if believes(source, now: now),
            case .added(let solved) = repair.sharedDecoder.add(unknowns, payload: payload, now: now)
        {
            deliver(solved, decodedFrom: nil, from: address, now: now, into: &actions)
        }
        var decoder = repair.decoders[source] ?? CodedDecoder()
        if repair.decoders[source] == nil, repair.decoders.count >= Self.maxDecoderSources {
            counters.add("drop.coded_decoder_full")
            return
        }
        let outcome = decoder.add(unknowns, payload: payload, now: now)
        repair.decoders[source] = decoder.isEmpty ? nil : decoder
        switch outcome {
        case .redundant:
            counters.add("coded_redundant")
            noteRepairHeard(members)
        case .full:
            counters.add("drop.coded_decoder_full")
        case .added(let solved):
            counters.add("coded_useful")
            noteRepairHeard(members)
            deliver(solved, decodedFrom: source, from: address, now: now, into: &actions)
        }
    }

    /// Whether a fragment or parity of an envelope we hold matches it (read from the store, within the source's
    /// `codedWork` budget). A false one is junk: its source is distrusted.
    mutating func verifyHeldPiece(
        _ piece: Packet, id: EnvelopeID, from source: String, now: Millis, store: some EnvelopeLookup
    ) -> Bool {
        guard believes(source, now: now), repair.codedWork.spend(1, from: source, now: now),
            let bytes = store.envelopes([id]).first?.bytes
        else { return false }
        let genuine: Bool
        switch piece {
        case .fragment(_, let offset, let total, let chunk):
            let start = Int(offset)
            genuine =
                Int(total) == bytes.count && start < bytes.count && start + chunk.count <= bytes.count
                && bytes[start..<(start + chunk.count)].elementsEqual(chunk)
        case .parity(_, let total, let index, let chunk):
            genuine =
                Int(total) == bytes.count
                && Fragmenter.parities(for: bytes, id: id, indices: [index]).first == piece
                && !chunk.isEmpty
        default:
            genuine = false
        }
        if !genuine {
            counters.add("drop.piece_mismatch")
            provenJunk(from: source, now: now)
        }
        return genuine
    }

    /// Sources whose coded packets are being solved at once (each has its own decoder of at most
    /// `CodedDecoder.maxRows` rows).
    static let maxDecoderSources = 8

    /// Another node's burst is repairing these: ours leaves them out (its sender heard the same wants).
    mutating func noteRepairHeard(_ prefixes: [UInt64]) {
        guard var burst = repair.burst else { return }
        for p in prefixes {
            if let id = index.id(prefix: p), burst.ids.remove(id) != nil { counters.add("repairs_suppressed") }
        }
        repair.burst = burst.ids.isEmpty ? nil : burst
    }

    /// An envelope we now hold may be a member of coded packets still being solved.
    mutating func learnForDecoding(
        _ stored: StoredEnvelope, from address: PeerAddress?, now: Millis, into actions: inout [Action]
    ) {
        if !repair.sharedDecoder.isEmpty {
            let solved = repair.sharedDecoder.learn(stored.id.prefix, bytes: stored.bytes, now: now)
            deliver(
                solved, decodedFrom: nil, from: address ?? PeerAddress(host: "local", port: 0, interface: -1),
                now: now, into: &actions)
        }
        for source in repair.decoders.keys.sorted() {
            guard var decoder = repair.decoders[source] else { continue }
            let solved = decoder.learn(stored.id.prefix, bytes: stored.bytes, now: now)
            repair.decoders[source] = decoder.isEmpty ? nil : decoder
            deliver(
                solved, decodedFrom: source, from: address ?? PeerAddress(host: "local", port: 0, interface: -1),
                now: now, into: &actions)
        }
    }

    /// Solved unknowns: each must be a whole envelope, zero-padded, whose ID has the prefix it was solved for.
    /// Anything else means a coded packet was wrong: everything solved from those rows is suspect, so the decoder
    /// starts over; a source's own decoder (`source`) names the culprit, whose claims and coded packets are then
    /// refused for a while. (An envelope already solved by the other decoder arrives as a duplicate.)
    mutating func deliver(
        _ solved: [CodedDecoder.Solved], decodedFrom source: String?, from address: PeerAddress, now: Millis,
        into actions: inout [Action]
    ) {
        for s in solved {
            guard let bytes = Self.unpadded(s.bytes), EnvelopeID(ofEncoded: bytes).prefix == s.prefix else {
                if let source {
                    counters.add("drop.coded_mismatch")
                    repair.decoders[source] = nil
                    provenJunk(from: source, now: now)
                } else {
                    counters.add("drop.coded_mismatch_shared")
                    repair.sharedDecoder.reset()
                }
                return
            }
            guard !holds(EnvelopeID(ofEncoded: bytes)) else { continue }
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
