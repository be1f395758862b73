/// Checks on the claims other nodes make (see `ClaimLedger`), and the budget of what we send in answer to each
/// source (no amplification).
extension MeshNode {
    /// A whole-store inventory page may claim this many envelopes beyond the prefixes it lists: IDs that share
    /// an 8-byte prefix are listed once.
    static let prefixCollisionSlack = 16

    /// Called whenever our inventory becomes due. A claim we deferred to must have been kept by now: a node whose
    /// beacon claimed more than we hold has sent its inventory within `claimDeadlineMillis`, and our inventory
    /// has not been due (deferred by others' inventories, wants and claims) for longer than `maxDeferralMillis`.
    /// Otherwise the sources behind the deferral are distrusted, and the deferral lifted.
    mutating func checkClaims(now: Millis) {
        if repair.owedSince == nil || now - repair.owedConfirmedAt > 2 * settings.repairIntervalMillis {
            // A new need (the last one was met, or went quiet long ago).
            repair.owedSince = now
            repair.claims.settle()
        }
        repair.owedConfirmedAt = now
        if let claim = repair.claimedMore, now - claim.at >= settings.claimDeadlineMillis {
            repair.claimedMore = nil
            repair.claims.distrust(claim.source, now: now)
            repair.moreHeldElsewhereAt = .min
            counters.add("claims_failed")
        }
        if let since = repair.owedSince, now - since >= settings.maxDeferralMillis {
            repair.owedSince = now
            let failed = repair.claims.deferralFailed(now: now)
            guard failed > 0 else { return }  // nobody deferred it: our own spacing did
            counters.add("claims_failed", Int64(failed))
            repair.claimedMore = nil
            repair.moreHeldElsewhereAt = .min
            // Only our own rounds space ours now.
            repair.lastInventoryAt = repair.lastOwnInventoryAt
        }
    }

    /// Whether `source`'s claims still defer anything: none of its claims failed, and nothing it sent was junk.
    func believes(_ source: String, now: Millis) -> Bool {
        repair.claims.trusts(source, now: now) && repair.junk.trusts(source, now: now)
    }

    /// `source` sent something no honest node sends (a coded packet that does not solve to what it names, a
    /// piece that differs from the envelope, an impossible count): its coded packets are refused unread, and its
    /// claims ignored, for a while.
    mutating func provenJunk(from source: String, now: Millis) {
        repair.junk.distrust(source, now: now)
        counters.add("junk_sources")
    }

    /// A request (beacon, inventory, want) earns its source the right to `answerBytesPerByte` times its size in
    /// answers.
    mutating func earnAnswers(_ bytes: Int, from source: String, now: Millis) {
        repair.answers.deposit(Double(bytes) * settings.answerBytesPerByte, to: source, now: now)
    }

    /// Pays for `bytes` of answer from the budgets of the sources that asked, in turn; false (spending nothing)
    /// when together they cannot.
    mutating func payAnswer(_ bytes: Int, by requesters: [String], now: Millis) -> Bool {
        let cost = Double(bytes)
        let available = requesters.reduce(0.0) { $0 + repair.answers.available(to: $1, now: now) }
        guard available >= cost else { return false }
        var left = cost
        for r in requesters where left > 0 {
            let take = min(left, repair.answers.available(to: r, now: now))
            if take > 0, repair.answers.spend(take, from: r, now: now) { left -= take }
        }
        return true
    }
}
