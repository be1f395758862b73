extension NegentropySession {
    /// Answers every range of `message` in order. Matching ranges and ranges the peer skips fold into one Skip,
    /// written only when a later range needs an answer; trailing ones are left implicit.
    ///
    /// With a frame size limit, a range whose answer would bring the message within `frameSizeMargin` bytes of the
    /// limit is not answered: the message instead ends with one Fingerprint range from the start of that range to
    /// infinity, over this side's records there, and the peer splits it again in its next message. (The reference
    /// fingerprints only the records after the unanswered range there, and folds the pending Skip into it; this
    /// side's closing fingerprint is always the true one, so the peer can never match it by mistake.)
    func process(_ message: NegentropyMessage, initiator: Bool) -> Reconciliation {
        let records = storage.records
        let budget = frameSizeLimit == 0 ? Int.max : frameSizeLimit - Self.frameSizeMargin
        var out = NegentropyWriter()
        var have: [EnvelopeID] = []
        var need: [EnvelopeID] = []
        var prevBound = NegentropyBound.zero
        var prevIndex = 0
        var skipPending = false

        for range in message.ranges {
            let lower = prevIndex
            let upper = storage.lowerBound(of: range.upperBound, in: lower..<records.count)
            let mark = out.mark
            // Where the closing fingerprint starts, once this message is full.
            var closeFrom: Int?

            switch range.payload {
            case .skip:
                skipPending = true
            case .fingerprint(let theirs):
                if storage.fingerprint(lower..<upper) == theirs {
                    skipPending = true
                } else {
                    if skipPending { out.writeBound(prevBound, mode: .skip) }
                    writeSplit(lower..<upper, upperBound: range.upperBound, initiator: initiator, into: &out)
                    if out.count > budget {
                        out.rollBack(to: mark)
                        closeFrom = lower
                    } else {
                        skipPending = false
                    }
                }
            case .idList(let theirs):
                if initiator {
                    skipPending = true
                    compare(theirs, with: lower..<upper, have: &have, need: &need)
                } else {
                    // Like the reference: IDs go in while the message before them still fits the budget; the rest
                    // of the range is left to the closing fingerprint.
                    let base = out.count
                    if skipPending { out.writeBound(prevBound, mode: .skip) }
                    skipPending = false
                    var end = lower
                    while end < upper && base + 32 * (end - lower) <= budget { end += 1 }
                    let bound = end == upper ? range.upperBound : NegentropyBound(exactly: records[end])
                    out.writeBound(bound, mode: .idList)
                    out.writeVarint(UInt64(end - lower))
                    for i in lower..<end { out.write(records[i].id) }
                    if out.count > budget { closeFrom = end }
                }
            }

            if let from = closeFrom {
                if skipPending { out.writeBound(prevBound, mode: .skip) }
                out.writeBound(.infinity, mode: .fingerprint)
                out.write(storage.fingerprint(from..<records.count))
                break
            }
            prevIndex = upper
            prevBound = range.upperBound
        }
        return Reconciliation(reply: out.bytes, have: have, need: need)
    }

    /// The initiator's side of an ID list: our IDs in `range` it lacks are `have`, its IDs we lack are `need`
    /// (in the order it sent them, once each).
    private func compare(
        _ theirs: [EnvelopeID], with range: Range<Int>, have: inout [EnvelopeID], need: inout [EnvelopeID]
    ) {
        let theirSet = Set(theirs)
        var matched = Set<EnvelopeID>()
        for i in range {
            let id = storage.records[i].id
            if theirSet.contains(id) { matched.insert(id) } else { have.append(id) }
        }
        for id in theirs where !matched.contains(id) {
            need.append(id)
            matched.insert(id)
        }
    }

    /// Writes `range` (ending at `upperBound`) as one ID list or as fingerprints of up to `splitting.buckets`
    /// sub-ranges of nearly equal size, each ending at the shortest bound that separates it from the next.
    func writeSplit(_ range: Range<Int>, upperBound: NegentropyBound, initiator: Bool, into out: inout NegentropyWriter)
    {
        let records = storage.records
        let count = range.count
        if splitting.sendsIDList(count: count, initiator: initiator) {
            out.writeBound(upperBound, mode: .idList)
            out.writeVarint(UInt64(count))
            for i in range { out.write(records[i].id) }
            return
        }
        let buckets = min(splitting.buckets, count)
        let perBucket = count / buckets
        let withExtra = count % buckets
        var current = range.lowerBound
        for b in 0..<buckets {
            let size = perBucket + (b < withExtra ? 1 : 0)
            let fingerprint = storage.fingerprint(current..<(current + size))
            current += size
            let bound =
                current == range.upperBound
                ? upperBound : NegentropyBound.between(records[current - 1], records[current])
            out.writeBound(bound, mode: .fingerprint)
            out.write(fingerprint)
        }
    }
}
