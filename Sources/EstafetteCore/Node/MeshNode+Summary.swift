/// Range summaries (`Settings.rangeSummaries`): a repair round of a large store starts with the count and
/// fingerprint of 16 sub-ranges of the prefix space instead of pages of every prefix, and each node descends only
/// into the sub-ranges where it differs: a finer summary where it holds more than `rangePageLimit` IDs, its page
/// of prefixes where it holds fewer. What a round costs then follows the difference, not the store. See docs/protocol.md
/// ("Range summaries").
extension MeshNode {
    /// A summary splits a range this many ways.
    static let summaryWays = 16
    /// A differing sub-range where we hold at most this many IDs is answered with our page of prefixes, a larger
    /// one with a finer summary. A page costs 8 bytes an ID and both sides send one, a summary 28 bytes a
    /// sub-range: pages of up to 32 cost least (measured with the `rejoin` scenario; docs/decisions.md).
    static let rangePageLimit = 32
    /// Range answers waiting for their suppression delay, at most.
    static let maxPendingRangeAnswers = 512

    /// Whether our repair round goes out as a summary: the gate is on and the store needs more than one page. A
    /// round is then always one packet of the whole space (a summary, or the one page of a small store), so that
    /// a packet of part of the space is always an answer within a descent, never the start of a round.
    var roundUsesSummary: Bool {
        settings.rangeSummaries && envelopeCount > Packet.maxPrefixesPerPacket
    }

    mutating func rangeFingerprints() -> RangeFingerprints {
        if let c = rangeCache { return c }
        let r = RangeFingerprints(sortedPrefixes: sortedPrefixes(), index: index)
        rangeCache = r
        return r
    }

    /// Our round as one summary of the whole prefix space, paid by the sources that asked for it.
    mutating func sendSummaryRound(requesters: [String], now: Millis, into actions: inout [Action]) {
        // As fine as the requesters can pay for, 4 to 16 ways: one disagreeing beacon (88 bytes, 528 of credit)
        // pays for 15, so a rejoining node's first beacon starts the round instead of the one 4 s later.
        let credit = requesters.reduce(0.0) { $0 + repair.answers.available(to: $1, now: now) }
        let fixed = Packet.sealedOverhead + Packet.plainHeaderBytes + 8 + 8 + 4 + 32 + 1
        let affordable = (Int(min(credit, 1e9)) - fixed) / SummaryRange.wireBytes
        let ways = min(Self.summaryWays, max(4, affordable))
        let ranges = rangeFingerprints().summary(lo: 0, hi: .max, ways: ways)
        let packet = Packet.summary(
            lo: 0, hi: .max, count: UInt32(clamping: envelopeCount), digest: digest, ranges: ranges)
        let sealed = meshKey.seal(packet, session: session)
        guard payAnswer(sealed.count, by: requesters, now: now) else {
            counters.add("drop.answer_unpaid")
            return
        }
        actions.append(.multicast(sealed, except: nil))
        counters.add("summary_rounds")
    }

    mutating func onSummary(
        from sender: UInt64, source: String, lo: UInt64, hi: UInt64, count: UInt32, digest theirs: EnvelopeID,
        ranges: [SummaryRange], now: Millis, into actions: inout [Action]
    ) {
        guard settings.rangeSummaries else {
            counters.add("summaries_ignored")
            return
        }
        // The codec checked the bounds and that the sub-ranges hold no more than the store; a summary of the whole
        // space must hold the store exactly.
        let listed = ranges.reduce(0) { $0 + Int($1.count) }
        guard lo != 0 || hi != .max || listed == Int(count) else {
            counters.add("drop.summary_inconsistent")
            provenJunk(from: source, now: now)
            return
        }
        counters.add("summaries_received")
        if let claim = repair.claimedMore, claim.source == source { repair.claimedMore = nil }  // it came
        let trusted = believes(source, now: now)
        repair.inventoryHeardAt[sender] = now
        let whole = lo == 0 && hi == .max
        if trusted, whole {
            // A round is in progress (as for an inventory): no new one for a repair interval. A summary of part
            // of the space is an answer within a descent: it starts no round and stands in for none of ours.
            repair.lastInventoryAt = max(repair.lastInventoryAt, now)
            // Only a round (the whole space) stands in for ours: the answers of a long descent do not, or after
            // two repair intervals every node would distrust every other and stop suppressing (measured with
            // 1,000 missing: 9 answers for each range).
            if repair.owedSince != nil { repair.claims.deferred(by: source) }
            let offer = Offer(session: sender, count: count, source: source)
            if let best = repair.bestInventoryHeard, now - best.at < settings.repairIntervalMillis,
                !offer.isBetter(than: best.offer)
            {
            } else {
                repair.bestInventoryHeard = (offer, now)
            }
        }
        let key = RangeKey(lo: lo, hi: hi)
        if theirs == digest && Int(count) == envelopeCount {
            // The sender holds exactly what we hold: our inventory or answer for this range would add nothing.
            if trusted {
                if repair.inventoryDue != nil {
                    repair.inventoryDue = nil
                    repair.inventoryRequesters = [:]
                    counters.add("inventories_suppressed")
                }
                suppressRangeAnswer(key)
            }
            return
        }
        if trusted, whole, repair.inventoryDue != nil {
            repair.inventoryDue = nil
            counters.add("inventories_deferred")
        }
        let fingerprints = rangeFingerprints()
        var start = lo
        var differing: [RangeKey] = []
        for r in ranges {
            let pos = fingerprints.positions(lo: start, hi: r.upperBound)
            if pos.count != Int(r.count) || fingerprints.fingerprint(pos) != r.fingerprint {
                differing.append(RangeKey(lo: start, hi: r.upperBound))
            }
            if r.upperBound == .max { break }
            start = r.upperBound &+ 1
        }
        if differing.isEmpty, trusted { suppressRangeAnswer(key) }
        // The answers to one summary hold about as many sub-ranges as it did (16 where one differs, 2 each where
        // 8 or more do), so that they cost a few times its size: what its sender's credit pays for.
        let ways = max(2, Self.summaryWays / max(1, differing.count))
        for k in differing { queueRangeAnswer(k, ways: ways, requester: source, now: now, into: &actions) }
    }

    /// A page of an inventory covering part of the prefix space, with the gate on: we hold what it lists in
    /// [lo, hi] and nothing more (an identical answer, ours is suppressed), or we hold more (our answer for the
    /// range, so that the sender asks for it).
    mutating func onRangePage(
        lo: UInt64, hi: UInt64, prefixes: [UInt64], from source: String, trusted: Bool, now: Millis,
        into actions: inout [Action]
    ) {
        let fingerprints = rangeFingerprints()
        let pos = fingerprints.positions(lo: lo, hi: hi)
        let listed = Set(prefixes)
        let key = RangeKey(lo: lo, hi: hi)
        if fingerprints.ids[pos].contains(where: { !listed.contains($0.w0) }) {
            queueRangeAnswer(key, ways: Self.summaryWays, requester: source, now: now, into: &actions)
        } else if pos.count == listed.count, trusted {
            suppressRangeAnswer(key)
        }
    }

    /// Our answer for a sub-range where we differ from a summary or page we heard, after a suppression delay.
    mutating func queueRangeAnswer(
        _ key: RangeKey, ways: Int, requester: String, now: Millis, into actions: inout [Action]
    ) {
        if let at = repair.rangeAnswered[key], now - at < roundMillis {
            // We answered it a moment ago: what it brings (wants, a burst) is still on its way.
            counters.add("range_answers_recent")
            return
        }
        if var pending = repair.rangeAnswers[key] {
            if pending.requesters.count < 4, !pending.requesters.contains(requester) {
                pending.requesters.append(requester)
                repair.rangeAnswers[key] = pending
            }
            return
        }
        guard repair.rangeAnswers.count < Self.maxPendingRangeAnswers else {
            counters.add("drop.range_answer_queue_full")
            return
        }
        let due = now + suppressionDelay()
        repair.rangeAnswers[key] = PendingRangeAnswer(due: due, ways: ways, requesters: [requester])
        scheduleRepairTimer(at: due, into: &actions)
    }

    mutating func suppressRangeAnswer(_ key: RangeKey) {
        guard repair.rangeAnswers.removeValue(forKey: key) != nil else { return }
        counters.add("range_answers_suppressed")
    }

    /// Sends the range answers that are due, each paid by the sources whose packets asked for it.
    mutating func sendRangeAnswers(now: Millis, into actions: inout [Action]) {
        let due = repair.rangeAnswers.filter { $0.value.due <= now }.sorted { $0.key < $1.key }
        for (key, pending) in due {
            repair.rangeAnswers[key] = nil
            let fingerprints = rangeFingerprints()
            let pos = fingerprints.positions(lo: key.lo, hi: key.hi)
            let count = UInt32(clamping: envelopeCount)
            let packet: Packet
            if pos.count <= Self.rangePageLimit {
                packet = .inventory(
                    lo: key.lo, hi: key.hi, count: count, digest: digest, prefixes: fingerprints.ids[pos].map(\.w0))
            } else {
                packet = .summary(
                    lo: key.lo, hi: key.hi, count: count, digest: digest,
                    ranges: fingerprints.summary(lo: key.lo, hi: key.hi, ways: pending.ways))
            }
            let sealed = meshKey.seal(packet, session: session)
            guard payAnswer(sealed.count, by: pending.requesters, now: now) else {
                counters.add("drop.answer_unpaid")
                continue
            }
            actions.append(.multicast(sealed, except: nil))
            counters.add("range_answers_sent")
            // Our side of the round went out, for the range where it was needed: nothing is owed any more.
            repair.owedSince = nil
            repair.claims.settle()
            if repair.rangeAnswered.count < Self.maxPendingRangeAnswers { repair.rangeAnswered[key] = now }
        }
    }
}

/// A sub-range of the prefix space, [lo, hi].
struct RangeKey: Hashable, Comparable, Sendable {
    var lo: UInt64
    var hi: UInt64

    static func < (a: RangeKey, b: RangeKey) -> Bool { (a.lo, a.hi) < (b.lo, b.hi) }
}

/// Our answer for a sub-range, waiting for its suppression delay.
struct PendingRangeAnswer: Sendable {
    var due: Millis
    /// Into how many sub-ranges a summary answer splits the range.
    var ways: Int
    /// The sources whose summaries or pages showed the difference (a few): they pay for it.
    var requesters: [String]
}
