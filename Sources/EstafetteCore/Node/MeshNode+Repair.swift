#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Repair rounds: inventories, wants and the burst that answers them, all multicast with suppression. See the
/// overview on `MeshNode` and docs/protocol.md ("Repair rounds").
extension MeshNode {
    /// Our inventory goes out after a random delay, unless a node with our digest sends one first.
    mutating func scheduleInventory(now: Millis, into actions: inout [Action]) {
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
            repair.ownInventory = (Offer(session: session, count: UInt32(clamping: envelopeCount)), now)
            sendInventory(into: &actions)
        }
        if let due = repair.wantsDue, due <= now {
            repair.wantsDue = nil
            sendWants(now: now, into: &actions)
        }
        if let burst = repair.burst, burst.due <= now {
            repair.burst = nil
            let ids = burst.ids.filter { index[$0] != nil }.sorted()
            if let best = repair.bestInventoryHeard, let own = repair.ownInventory,
                now - best.at < roundMillis, now - own.at < roundMillis,
                best.offer.isBetter(than: own.offer)
            {
                // A node holding more also started this round: it heard the same wants and answers them all
                // in one burst; two bursts would each cost `need` packets.
                counters.add("bursts_deferred")
            } else if !ids.isEmpty {
                counters.add("repair_bursts")
                counters.add("envelopes_repaired", Int64(ids.count))
                repair.lastBurst = (Set(ids.map(\.prefix)), now)
                let parityOnly = ids.filter { repair.recentLong[$0].map { now - $0 < recentLongMillis } ?? false }
                var burstRNG = SplitMix64(seed: rng.next())
                sendBurst(
                    ids: ids, need: burst.need, parityOnly: Set(parityOnly), rng: &burstRNG, store: store,
                    into: &actions)
            }
        }
        // Re-arm for what is still queued.
        var next = repair.inventoryDue
        if let w = repair.wantsDue, next == nil || w < next! { next = w }
        if let b = repair.burst, next == nil || b.due < next! { next = b.due }
        if let next { scheduleRepairTimer(at: next, into: &actions) }
    }

    /// Asks for what we still lack, grouped by the node asked, with our whole need; stays silent when the wants
    /// we heard already list everything we lack and a need at least ours.
    mutating func sendWants(now: Millis, into actions: inout [Action]) {
        var byTarget: [UInt64: [UInt64]] = [:]
        for (p, offer) in repair.wanted where byPrefix[p] == nil {
            byTarget[offer.session, default: []].append(p)
            repair.asked[p] = now
        }
        let heard = repair.heardWants
        repair.wanted = [:]
        repair.heardWants = HeardWants()
        // Coded packets already received over what we lack count towards solving it: each row is one.
        let missing = Set(byTarget.values.joined())
        let total = max(1, missing.count - repair.decoder.rows(within: missing))
        let need = UInt16(clamping: total)
        if total <= heard.need && byTarget.values.allSatisfy({ $0.allSatisfy(heard.prefixes.contains) }) {
            counters.add("wants_suppressed")
            return
        }
        for (target, missing) in byTarget.sorted(by: { $0.key < $1.key }) {
            let unheard = missing.filter { !heard.prefixes.contains($0) }.sorted()
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

    mutating func sendInventory(into actions: inout [Action]) {
        let prefixes = sortedPrefixes()
        let perPage = Packet.maxPrefixesPerPacket
        let pageCount = max(1, (prefixes.count + perPage - 1) / perPage)
        if repair.inventoryCursor >= pageCount { repair.inventoryCursor = 0 }
        var page = repair.inventoryCursor
        let count = UInt32(clamping: envelopeCount)
        for _ in 0..<min(pageCount, settings.inventoryPagesPerRound) {
            let start = page * perPage
            let end = min(start + perPage, prefixes.count)
            let lo: UInt64 = page == 0 ? 0 : prefixes[start]
            let hi: UInt64 = end >= prefixes.count ? .max : prefixes[end] - 1
            let slice = start < end ? Array(prefixes[start..<end]) : []
            let packet = Packet.inventory(lo: lo, hi: hi, count: count, digest: digest, prefixes: slice)
            actions.append(.multicast(meshKey.seal(packet, session: session), except: nil))
            page = (page + 1) % pageCount
        }
        repair.inventoryCursor = page
        counters.add("inventory_rounds")
    }

    mutating func onInventory(
        from sender: UInt64, lo: UInt64, hi: UInt64, count: UInt32, digest theirs: EnvelopeID, prefixes: [UInt64],
        now: Millis, into actions: inout [Action]
    ) {
        // A repair round has started. Rounds are spaced by the repair interval, so that each one repairs a
        // batch (and a coded burst combines many envelopes); what this one misses, the next one covers.
        repair.lastInventoryAt = max(repair.lastInventoryAt, now)
        let offer = Offer(session: sender, count: count)
        repair.inventoryHeardAt[sender] = now
        if let best = repair.bestInventoryHeard, now - best.at < settings.repairIntervalMillis,
            !offer.isBetter(than: best.offer)
        {
        } else {
            repair.bestInventoryHeard = (offer, now)
        }
        if theirs == digest && Int(count) == envelopeCount {
            // A node that holds exactly what we hold has published it: ours would add nothing.
            if repair.inventoryDue != nil {
                repair.inventoryDue = nil
                counters.add("inventories_suppressed")
            }
            return
        }
        if repair.inventoryDue != nil {
            // Another node started this round: one inventory per round, so that the nodes lacking things ask
            // the same node and its burst combines all they lack. If we hold something it lacks, a later round
            // brings our turn (a node whose beacons show it holds more is not cut off by those that hold less).
            repair.inventoryDue = nil
            counters.add("inventories_deferred")
        }
        // Ask the sender for what we lack; what it lacks, it will learn from inventories like ours.
        for p in prefixes where byPrefix[p] == nil {
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
        // Our digest differs: unless the sender holds more than we do, make sure our side is published too
        // (suppressed if a node holding what we hold does it first).
        if Int(count) <= envelopeCount { scheduleInventory(now: now, into: &actions) }
    }

    mutating func onWant(target: UInt64, need: UInt16, prefixes: [UInt64], now: Millis, into actions: inout [Action]) {
        // A want means a round is in progress, even if its inventory did not reach us: an inventory of ours
        // now would start a second round, whose wants the first round's senders would not answer.
        repair.lastInventoryAt = max(repair.lastInventoryAt, now)
        if repair.inventoryDue != nil {
            repair.inventoryDue = nil
            counters.add("inventories_deferred")
        }
        if target != session, repair.wantsDue != nil {
            // Another node asked: the round's burst will cover what it listed, for as many losses as it needs.
            for p in prefixes where repair.wanted[p] != nil { repair.heardWants.prefixes.insert(p) }
            repair.heardWants.need = max(repair.heardWants.need, Int(need))
        }
        // Wants addressed to us, or to another inventory sender of our round (the best of us answers them
        // all), are collected for one repair window into one burst.
        guard target == session || isRoundPeer(target, now: now) else { return }
        var burst = repair.burst ?? Burst(due: now + settings.repairWindowMillis)
        for p in prefixes {
            guard let id = byPrefix[p] else { continue }
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
        // A need below the count listed is fine (others listed the rest); no need at all means "all listed".
        burst.need = max(burst.need, need == 0 ? prefixes.count : Int(need))
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
