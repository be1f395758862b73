/// Trickle beacons and suppressed multicast repair. See the overview on `MeshNode`.
struct TrickleState: Sendable {
    var interval: Millis = 0
    var intervalStart: Millis = 0
    /// Agreeing beacons heard in this interval.
    var heard = 0
    /// When this node last beaconed: it never stays silent longer than the maximum interval, so that quiet
    /// nodes remain visible as peers.
    var lastBeaconAt: Millis = .min
}

struct RepairState: Sendable {
    /// When our inventory goes out, if nobody with our digest sends one first.
    var inventoryDue: Millis? = nil
    var lastInventoryAt: Millis = .min
    /// Where the next inventory round starts (pages beyond one round are sent in later rounds).
    var inventoryCursor = 0
    /// Prefixes we lack → (whom to ask, when).
    var pendingWants: [UInt64: (target: UInt64, due: Millis)] = [:]
    /// Envelopes multicast (by us or heard from others) recently: not pushed again within the repair window.
    var recentlyPushed: [EnvelopeID: Millis] = [:]
    var repairTimerAt: Millis? = nil
}

extension MeshNode {
    // MARK: - Trickle

    mutating func startInterval(length: Millis, now: Millis, into actions: inout [Action]) {
        trickle.interval = length
        trickle.intervalStart = now
        trickle.heard = 0
        let half = max(1, length / 2)
        let at = now + half + Int64.random(in: 0..<half, using: &rng)
        actions.append(.scheduleTimer(.beacon, at: at))
        actions.append(.scheduleTimer(.interval, at: now + length))
    }

    mutating func onBeaconTimer(now: Millis, into actions: inout [Action]) {
        let recentlyHeardFrom = trickle.lastBeaconAt != .min && now - trickle.lastBeaconAt < settings.maxIntervalMillis
        guard trickle.heard < settings.redundancy || !recentlyHeardFrom else {
            counters.add("beacons_suppressed")
            return
        }
        trickle.lastBeaconAt = now
        let beacon = Packet.beacon(count: UInt32(clamping: envelopeCount), digest: digest)
        actions.append(.multicast(meshKey.seal(beacon, session: session), except: nil))
        counters.add("beacons_sent")
    }

    mutating func onIntervalEnd(now: Millis, into actions: inout [Action]) {
        // Housekeeping once per interval.
        peers = peers.filter { now - $0.value.lastSeen < settings.peerTimeoutMillis }
        let expired = reassembler.expire(now: now)
        if expired > 0 { counters.add("drop.reassembly_timeout", Int64(expired)) }
        let window = 4 * settings.repairWindowMillis
        repair.recentlyPushed = repair.recentlyPushed.filter { now - $0.value < window }
        startInterval(length: min(trickle.interval * 2, settings.maxIntervalMillis), now: now, into: &actions)
    }

    mutating func onBeacon(count: UInt32, digest theirs: EnvelopeID, now: Millis, into actions: inout [Action]) {
        if theirs == digest && Int(count) == envelopeCount {
            trickle.heard += 1
            return
        }
        counters.add("beacons_inconsistent")
        if trickle.interval > settings.beaconIntervalMillis {
            startInterval(length: settings.beaconIntervalMillis, now: now, into: &actions)
        }
        scheduleInventory(now: now, into: &actions)
    }

    // MARK: - Repair

    /// Our inventory goes out after a random delay, unless a node with our digest sends one first.
    mutating func scheduleInventory(now: Millis, into actions: inout [Action]) {
        guard repair.inventoryDue == nil,
            repair.lastInventoryAt == .min || now - repair.lastInventoryAt >= settings.beaconIntervalMillis
        else { return }
        let due = now + Int64.random(in: 0..<max(1, settings.repairWindowMillis), using: &rng)
        repair.inventoryDue = due
        scheduleRepairTimer(at: due, into: &actions)
    }

    mutating func scheduleRepairTimer(at due: Millis, into actions: inout [Action]) {
        if let t = repair.repairTimerAt, t <= due { return }
        repair.repairTimerAt = due
        actions.append(.scheduleTimer(.repair, at: due))
    }

    mutating func onRepairTimer(now: Millis, into actions: inout [Action]) {
        repair.repairTimerAt = nil
        if let due = repair.inventoryDue, due <= now {
            repair.inventoryDue = nil
            repair.lastInventoryAt = now
            sendInventory(into: &actions)
        }
        // Wants that are due and still needed, grouped by the node asked.
        var byTarget: [UInt64: [UInt64]] = [:]
        for (prefix, want) in repair.pendingWants where want.due <= now {
            repair.pendingWants[prefix] = nil
            if byPrefix[prefix] == nil { byTarget[want.target, default: []].append(prefix) }
        }
        for (target, prefixes) in byTarget.sorted(by: { $0.key < $1.key }) {
            let sorted = prefixes.sorted()
            var i = 0
            while i < sorted.count {
                let chunk = Array(sorted[i..<min(i + Packet.maxPrefixesPerPacket, sorted.count)])
                actions.append(.multicast(meshKey.seal(.want(target: target, prefixes: chunk), session: session), except: nil))
                counters.add("wants_sent")
                i += Packet.maxPrefixesPerPacket
            }
        }
        // Re-arm for what is still queued.
        var next = repair.inventoryDue
        for w in repair.pendingWants.values where next == nil || w.due < next! { next = w.due }
        if let next { scheduleRepairTimer(at: next, into: &actions) }
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
        if theirs == digest && Int(count) == envelopeCount {
            // A node that holds exactly what we hold has published it: ours would add nothing.
            if repair.inventoryDue != nil {
                repair.inventoryDue = nil
                counters.add("inventories_suppressed")
            }
            return
        }
        if Int(count) > envelopeCount, repair.inventoryDue != nil {
            // A node that holds more than we do is publishing: we are most likely the one missing things. Ours
            // waits; if we also hold something it lacks, the next disagreeing beacon brings our turn.
            repair.inventoryDue = nil
            counters.add("inventories_deferred")
        }
        // Ask the sender for what we lack; what it lacks, it will learn from inventories like ours.
        for p in prefixes where byPrefix[p] == nil && repair.pendingWants[p] == nil {
            guard repair.pendingWants.count < settings.maxPendingWants else {
                counters.add("drop.want_queue_full")
                break
            }
            let due = now + Int64.random(in: 0..<max(1, settings.repairWindowMillis), using: &rng)
            repair.pendingWants[p] = (sender, due)
            scheduleRepairTimer(at: due, into: &actions)
        }
        // Our digest differs: unless the sender holds more than we do, make sure our side is published too
        // (suppressed if a node holding what we hold does it first).
        if Int(count) <= envelopeCount { scheduleInventory(now: now, into: &actions) }
    }

    mutating func onWant(target: UInt64, prefixes: [UInt64], now: Millis, into actions: inout [Action]) {
        // Another node asked for these: the answer is multicast, so our own want for them is redundant.
        for p in prefixes where repair.pendingWants[p] != nil {
            repair.pendingWants[p] = nil
            counters.add("wants_suppressed")
        }
        guard target == session else { return }
        var push: [EnvelopeID] = []
        for p in prefixes {
            guard let id = byPrefix[p] else { continue }
            if let last = repair.recentlyPushed[id], now - last < settings.repairWindowMillis { continue }
            repair.recentlyPushed[id] = now
            push.append(id)
        }
        if !push.isEmpty {
            counters.add("envelopes_repaired", Int64(push.count))
            actions.append(.multicastStored(push))
        }
    }
}
