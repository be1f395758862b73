#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Repair rounds: inventories, wants and the burst that answers them, all multicast with suppression. See the
/// overview on `MeshNode` and docs/protocol.md ("Repair rounds").
extension MeshNode {
    /// Our inventory goes out after a random delay, unless a node with our digest sends one first. `requester`
    /// is the source whose packet showed it is needed: it pays for it (`answers`).
    mutating func scheduleInventory(requester: String, now: Millis, into actions: inout [Action]) {
        if repair.inventoryRequesters[requester] != nil || repair.inventoryRequesters.count < ClaimLedger.maxDeferrers {
            repair.inventoryRequesters[requester] = now
        }
        checkClaims(now: now)
        guard repair.inventoryDue == nil,
            repair.moreHeldElsewhereAt == .min || now - repair.moreHeldElsewhereAt >= settings.beaconIntervalMillis,
            repair.lastInventoryAt == .min || now - repair.lastInventoryAt >= settings.repairIntervalMillis
        else { return }
        let due = now + suppressionDelay()
        repair.inventoryDue = due
        scheduleRepairTimer(at: due, into: &actions)
    }

    /// A random delay in [0, repair window) for a multicast that others' identical ones suppress. It is biased
    /// exponentially towards the end of the window with λ = ln(n) + 1 for n nodes, so that about one of n
    /// fires before the rest hear it, instead of the n·(delay/window) of a uniform draw (Nonnenmacher and
    /// Biersack, "Optimal multicast feedback", INFOCOM 1998). With one peer it is nearly uniform.
    mutating func suppressionDelay() -> Millis {
        let window = Double(max(1, settings.repairWindowMillis))
        let lambda = log(Double(peers.count + 1)) + 1
        let u = Double.random(in: 0..<1, using: &rng)
        let t = log(1 + u * (exp(lambda) - 1)) / lambda
        return min(Millis(t * window), Millis(window) - 1)
    }

    /// How long a request for our inventory may wait to be paid from: as long as our inventory may be deferred,
    /// and a repair window more. A node that still disagrees by then has asked again.
    var inventoryRequestLapse: Millis { settings.maxDeferralMillis + settings.repairWindowMillis }

    /// How long after an inventory its round's wants and burst may come: wants within a repair window, the
    /// burst a repair window after the first want, and a window for delays.
    var roundMillis: Millis { 3 * settings.repairWindowMillis }

    /// How long a node that lacks a long envelope is assumed to hold a partial of it: three quarters of the
    /// reassembly timeout, so that the partial is still there when the parities come.
    var recentLongMillis: Millis { settings.reassembly.timeoutMillis * 3 / 4 }

    /// A long envelope was accepted (received or submitted): remember when, within a bound.
    mutating func noteLongEnvelope(_ id: EnvelopeID, now: Millis) {
        guard repair.recentLong.count < settings.maxPendingWants else { return }
        repair.recentLong[id] = now
    }

    mutating func scheduleRepairTimer(at due: Millis, into actions: inout [Action]) {
        if let t = repair.repairTimerAt, t <= due { return }
        repair.repairTimerAt = due
        actions.append(.scheduleTimer(.repair, at: due))
    }

    mutating func onRepairTimer(now: Millis, store: some EnvelopeLookup, into actions: inout [Action]) {
        repair.repairTimerAt = nil
        if let due = repair.inventoryDue, due <= now {
            repair.inventoryDue = nil
            repair.lastInventoryAt = now
            repair.lastOwnInventoryAt = now
            repair.ownInventory = (Offer(session: session, count: UInt32(clamping: envelopeCount)), now)
            repair.owedSince = nil
            repair.claims.settle()
            sendInventory(now: now, into: &actions)
        }
        if let due = repair.wantsDue, due <= now {
            repair.wantsDue = nil
            sendWants(now: now, into: &actions)
        }
        if let burst = repair.burst, burst.due <= now {
            repair.burst = nil
            let ids = burst.ids.filter { index.contains($0) }.sorted()
            if let best = repair.bestInventoryHeard, let own = repair.ownInventory,
                now - best.at < roundMillis, now - own.at < roundMillis,
                best.offer.isBetter(than: own.offer), believes(best.offer.source, now: now)
            {
                // A node holding more also started this round: it heard the same wants and answers them all
                // in one burst; two bursts would each cost `need` packets. If wants for them come to us again,
                // its burst never came (`onWant`).
                counters.add("bursts_deferred")
                repair.burstDeferredTo = (best.offer.source, Set(ids.map(\.prefix)), now)
            } else if !ids.isEmpty {
                counters.add("repair_bursts")
                let parityOnly = ids.filter { repair.recentLong[$0].map { now - $0 < recentLongMillis } ?? false }
                var burstRNG = SplitMix64(seed: rng.next())
                let unpaid = sendBurst(
                    ids: ids, need: burst.need, parityOnly: Set(parityOnly), askedBy: burst.askedBy,
                    rng: &burstRNG, now: now, store: store, into: &actions)
                let sent = ids.filter { !unpaid.contains($0) }
                counters.add("envelopes_repaired", Int64(sent.count))
                repair.lastBurst = (Set(sent.map(\.prefix)), now)
                if !unpaid.isEmpty, burst.retries < Self.maxBurstRetries, repair.burst == nil {
                    // What its requesters could not pay yet waits for their next requests (a lagging node
                    // keeps beaconing), a few times.
                    var rest = Burst(due: now + settings.repairIntervalMillis / 4)
                    rest.ids = Set(unpaid)
                    rest.need = burst.need
                    rest.askedBy = burst.askedBy.filter { unpaid.contains($0.key) }
                    rest.retries = burst.retries + 1
                    repair.burst = rest
                }
            }
        }
        if !repair.rangeAnswers.isEmpty { sendRangeAnswers(now: now, into: &actions) }
        // Re-arm for what is still queued.
        var next = repair.inventoryDue
        if let r = repair.rangeAnswers.values.map(\.due).min(), next == nil || r < next! { next = r }
        if let w = repair.wantsDue, next == nil || w < next! { next = w }
        if let b = repair.burst, next == nil || b.due < next! { next = b.due }
        if let next { scheduleRepairTimer(at: next, into: &actions) }
    }

    /// Asks for what we still lack, grouped by the node asked, with our whole need; stays silent when the wants
    /// we heard (from sources we trust) already list everything we lack and a need at least ours.
    mutating func sendWants(now: Millis, into actions: inout [Action]) {
        var byTarget: [UInt64: [UInt64]] = [:]
        var targetSources: Set<String> = []
        for (p, offer) in repair.wanted where !index.hasPrefix(p) {
            byTarget[offer.session, default: []].append(p)
            targetSources.insert(offer.source)
            repair.asked[p] = now
        }
        let heard = repair.heardWants
        repair.wanted = [:]
        repair.heardWants = HeardWants()
        let missing = Set(byTarget.values.joined())
        // Wants we stayed silent for last time were to bring a burst: if none of what we lacked then arrived,
        // they were claims nobody kept.
        if let last = repair.wantsSuppressed {
            repair.wantsSuppressed = nil
            if now - last.at < 4 * roundMillis, !last.missing.isEmpty, last.missing.isSubset(of: missing) {
                for s in last.by { repair.claims.distrust(s, now: now) }
                counters.add("claims_failed", Int64(last.by.count))
            }
        }
        // Coded packets already received over what we lack count towards solving it: each row is one. Only the
        // rows of the nodes we ask: the rows they send next land in the same decoder, and a row from anyone else
        // may be junk (it would count our need down to nothing).
        let rows = max(
            repair.sharedDecoder.rows(within: missing),
            targetSources.reduce(0) { $0 + (repair.decoders[$1]?.rows(within: missing) ?? 0) })
        let total = max(1, missing.count - rows)
        let need = UInt16(clamping: total)
        let heardTrusted = !heard.sources.isEmpty && heard.sources.allSatisfy { believes($0, now: now) }
        if heardTrusted, total <= heard.need, byTarget.values.allSatisfy({ $0.allSatisfy(heard.prefixes.contains) }) {
            counters.add("wants_suppressed")
            if missing.count <= settings.maxPendingWants {
                repair.wantsSuppressed = (heard.sources, missing, now)
            }
            return
        }
        for (target, missing) in byTarget.sorted(by: { $0.key < $1.key }) {
            let unheard = missing.filter { !(heardTrusted && heard.prefixes.contains($0)) }.sorted()
            if unheard.isEmpty && target != byTarget.keys.min() { continue }
            var i = 0
            repeat {
                let chunk = Array(unheard[i..<min(i + Packet.maxPrefixesPerPacket, unheard.count)])
                let want = Packet.want(target: target, need: need, prefixes: chunk)
                actions.append(.multicast(meshKey.seal(want, session: session), except: nil))
                counters.add("wants_sent")
                i += Packet.maxPrefixesPerPacket
            } while i < unheard.count
        }
    }

    /// Our inventory, in range pages, as many as the sources that asked for it (`inventoryRequesters`) have
    /// paid for (`answers`).
    mutating func sendInventory(now: Millis, into actions: inout [Action]) {
        let lapse = inventoryRequestLapse
        let requesters = repair.inventoryRequesters.filter { now - $0.value <= lapse }.keys.sorted()
        repair.inventoryRequesters = [:]
        if roundUsesSummary {
            sendSummaryRound(requesters: requesters, now: now, into: &actions)
            return
        }
        let prefixes = sortedPrefixes()
        let perPage = Packet.maxPrefixesPerPacket
        let pageCount = max(1, (prefixes.count + perPage - 1) / perPage)
        if repair.inventoryCursor >= pageCount { repair.inventoryCursor = 0 }
        var page = repair.inventoryCursor
        let count = UInt32(clamping: envelopeCount)
        var sent = 0
        for _ in 0..<min(pageCount, settings.inventoryPagesPerRound) {
            let start = page * perPage
            let end = min(start + perPage, prefixes.count)
            let lo: UInt64 = page == 0 ? 0 : prefixes[start]
            let hi: UInt64 = end >= prefixes.count ? .max : prefixes[end] - 1
            let slice = start < end ? Array(prefixes[start..<end]) : []
            let packet = Packet.inventory(lo: lo, hi: hi, count: count, digest: digest, prefixes: slice)
            let sealed = meshKey.seal(packet, session: session)
            guard payAnswer(sealed.count, by: requesters, now: now) else { break }
            actions.append(.multicast(sealed, except: nil))
            sent += 1
            page = (page + 1) % pageCount
        }
        repair.inventoryCursor = page
        if sent == 0 {
            counters.add("drop.answer_unpaid")
            return
        }
        counters.add("inventory_rounds")
    }

    mutating func onInventory(
        from sender: UInt64, source: String, lo: UInt64, hi: UInt64, count: UInt32, digest theirs: EnvelopeID,
        prefixes: [UInt64], now: Millis, into actions: inout [Action]
    ) {
        // What a count can be: the page lists every prefix the sender holds in [lo, hi], so its whole store
        // holds at least those, and those alone when the page covers every prefix (give or take the rare IDs
        // that share a prefix).
        let whole = lo == 0 && hi == .max
        guard Int(count) >= prefixes.count, !whole || Int(count) - prefixes.count <= Self.prefixCollisionSlack else {
            counters.add("drop.inventory_inconsistent")
            provenJunk(from: source, now: now)
            return
        }
        if let claim = repair.claimedMore, claim.source == source { repair.claimedMore = nil }  // it came
        let trusted = believes(source, now: now)
        let offer = Offer(session: sender, count: count, source: source)
        repair.inventoryHeardAt[sender] = now
        // With range summaries a round is one packet of the whole space (`roundUsesSummary`): a page of part of
        // it answers a summary, starts no round and stands in for none of ours (else a forger's partial pages
        // would hold our rounds back with no claim to check).
        let startsRound = whole || !settings.rangeSummaries
        if trusted, startsRound {
            // A repair round has started. Rounds are spaced by the repair interval, so that each one repairs a
            // batch (and a coded burst combines many envelopes); what this one misses, the next one covers.
            repair.lastInventoryAt = max(repair.lastInventoryAt, now)
            if repair.owedSince != nil { repair.claims.deferred(by: source) }
            if let best = repair.bestInventoryHeard, now - best.at < settings.repairIntervalMillis,
                !offer.isBetter(than: best.offer)
            {
            } else {
                repair.bestInventoryHeard = (offer, now)
            }
        }
        if theirs == digest && Int(count) == envelopeCount {
            // A node that holds exactly what we hold has published it: ours would add nothing.
            if trusted, repair.inventoryDue != nil {
                repair.inventoryDue = nil
                repair.inventoryRequesters = [:]  // answered by that inventory
                counters.add("inventories_suppressed")
            }
            if trusted, settings.rangeSummaries { suppressRangeAnswer(RangeKey(lo: lo, hi: hi)) }
            return
        }
        if trusted, startsRound, repair.inventoryDue != nil {
            // Another node started this round: one inventory per round, so that the nodes lacking things ask
            // the same node and its burst combines all they lack. If we hold something it lacks, a later round
            // brings our turn (a node whose beacons show it holds more is not cut off by those that hold less).
            repair.inventoryDue = nil
            counters.add("inventories_deferred")
        }
        // Ask the sender for what we lack; what it lacks, it will learn from inventories like ours.
        for p in prefixes where !index.hasPrefix(p) {
            if let at = repair.asked[p], now - at < 3 * settings.repairWindowMillis { continue }
            if let known = repair.wanted[p] {
                // The best sender of the current round; one from an earlier round has stopped collecting.
                if offer.isBetter(than: known) || now - (repair.inventoryHeardAt[known.session] ?? .min) >= roundMillis
                {
                    repair.wanted[p] = offer
                }
                continue
            }
            guard repair.wanted.count < settings.maxPendingWants else {
                counters.add("drop.want_queue_full")
                break
            }
            repair.wanted[p] = offer
            if repair.wantsDue == nil {
                let due = now + suppressionDelay()
                repair.wantsDue = due
                scheduleRepairTimer(at: due, into: &actions)
            }
        }
        if settings.rangeSummaries, !whole {
            // A page answering a range summary: answered for its range only, never with a whole round.
            onRangePage(lo: lo, hi: hi, prefixes: prefixes, from: source, trusted: trusted, now: now, into: &actions)
            return
        }
        // Our digest differs: unless the sender holds more than we do, make sure our side is published too
        // (suppressed if a node holding what we hold does it first).
        if Int(count) <= envelopeCount { scheduleInventory(requester: source, now: now, into: &actions) }
    }

    mutating func onWant(
        target: UInt64, need: UInt16, prefixes: [UInt64], from source: String, now: Millis,
        into actions: inout [Action]
    ) {
        if believes(source, now: now) {
            // A want means a round is in progress, even if its inventory did not reach us: an inventory of ours
            // now would start a second round, whose wants the first round's senders would not answer.
            repair.lastInventoryAt = max(repair.lastInventoryAt, now)
            if repair.owedSince != nil { repair.claims.deferred(by: source) }
            if repair.inventoryDue != nil {
                repair.inventoryDue = nil
                counters.add("inventories_deferred")
            }
            if target != session, repair.wantsDue != nil {
                // Another node asked: the round's burst will cover what it listed, for as many losses as it
                // needs.
                for p in prefixes where repair.wanted[p] != nil { repair.heardWants.prefixes.insert(p) }
                repair.heardWants.need = max(repair.heardWants.need, Int(need))
                if repair.heardWants.sources.count < ClaimLedger.maxDeferrers {
                    repair.heardWants.sources.insert(source)
                }
            }
        }
        if let deferred = repair.burstDeferredTo, target == session || isRoundPeer(target, now: now) {
            // We left these to a better node's burst: asked for again, its burst never came.
            if now - deferred.at >= 3 * roundMillis {
                repair.burstDeferredTo = nil
            } else if prefixes.contains(where: deferred.prefixes.contains) {
                repair.burstDeferredTo = nil
                repair.claims.distrust(deferred.source, now: now)
                counters.add("claims_failed")
            }
        }
        // Wants addressed to us, or to another inventory sender of our round (the best of us answers them
        // all), are collected for one repair window into one burst.
        guard target == session || isRoundPeer(target, now: now) else { return }
        var burst = repair.burst ?? Burst(due: now + settings.repairWindowMillis)
        for p in prefixes {
            guard let id = index.id(prefix: p) else { continue }
            if let last = repair.lastBurst, now - last.at < settings.repairWindowMillis, last.prefixes.contains(p) {
                counters.add("wants_crossed_burst")
                continue
            }
            guard burst.ids.count < settings.maxPendingWants else {
                counters.add("drop.repair_queue_full")
                break
            }
            burst.ids.insert(id)
        }
        guard !burst.ids.isEmpty else { return }
        for p in prefixes {
            guard let id = index.id(prefix: p), burst.ids.contains(id) else { continue }
            var by = burst.askedBy[id] ?? []
            if by.count < 4, !by.contains(source) { by.append(source) }
            burst.askedBy[id] = by
        }
        // A need below the count listed is fine (others listed the rest); no need at all means "all listed". A
        // need above what we could send is clamped to it.
        burst.need = max(burst.need, min(need == 0 ? prefixes.count : Int(need), settings.maxPendingWants))
        if repair.burst == nil { scheduleRepairTimer(at: burst.due, into: &actions) }
        repair.burst = burst
    }

    /// Whether `sender` sent an inventory in the same round as ours (within a repair window of it).
    func isRoundPeer(_ sender: UInt64, now: Millis) -> Bool {
        guard let own = repair.ownInventory, now - own.at < roundMillis,
            let theirs = repair.inventoryHeardAt[sender]
        else { return false }
        return abs(theirs - own.at) < settings.repairWindowMillis
    }
}
