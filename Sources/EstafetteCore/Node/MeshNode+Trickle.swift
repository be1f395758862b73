/// Trickle beacons (RFC 6206, with a presence floor). See the overview on `MeshNode`.
extension MeshNode {
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
        // Keyed digest and coarse count, so that two sessions never send an equal field (BeaconFields.swift).
        actions.append(.multicast(meshKey.seal(ownBeacon, session: session), except: nil))
        counters.add("beacons_sent")
    }

    mutating func onIntervalEnd(now: Millis, into actions: inout [Action]) {
        // Housekeeping once per interval.
        peers = peers.filter { now - $0.value.lastSeen < settings.peerTimeoutMillis }
        peersBySource = peers.reduce(into: [:]) { $0[$1.value.address.source, default: []].insert($1.key) }
        peerTableRescanAt = .min
        repair.claims.prune(now: now)
        repair.junk.prune(now: now)
        repair.answers.prune(now: now)
        repair.codedWork.prune(now: now)
        let expired = reassembler.expire(now: now)
        if expired > 0 { counters.add("drop.reassembly_timeout", Int64(expired)) }
        repair.asked = repair.asked.filter { now - $0.value < 3 * settings.repairWindowMillis }
        repair.inventoryHeardAt = repair.inventoryHeardAt.filter { now - $0.value < roundMillis }
        if !repair.rangeAnswered.isEmpty {
            repair.rangeAnswered = repair.rangeAnswered.filter { now - $0.value < roundMillis }
        }
        repair.recentLong = repair.recentLong.filter { now - $0.value < recentLongMillis }
        var stale = repair.sharedDecoder.expire(now: now)
        for (source, var decoder) in repair.decoders {
            stale += decoder.expire(now: now)
            repair.decoders[source] = decoder.isEmpty ? nil : decoder
        }
        if stale > 0 { counters.add("drop.coded_timeout", Int64(stale)) }
        startInterval(length: min(trickle.interval * 2, settings.maxIntervalMillis), now: now, into: &actions)
    }

    mutating func onBeacon(
        count: UInt32, digest theirs: EnvelopeID, from source: String, now: Millis, into actions: inout [Action]
    ) {
        if theirs == digest && Int(count) == envelopeCount {
            trickle.heard += 1
            return
        }
        counters.add("beacons_inconsistent")
        if trickle.interval > settings.beaconIntervalMillis {
            startInterval(length: settings.beaconIntervalMillis, now: now, into: &actions)
        }
        if Int(count) > envelopeCount {
            // That node holds more: its inventory, not ours, starts the round (ours is the one our beacon
            // makes it schedule). If we also hold something it lacks, a later round brings our turn. A claim is
            // only believed until the inventory it promises fails to come (`checkClaims`).
            if believes(source, now: now) {
                repair.moreHeldElsewhereAt = now
                if repair.claimedMore == nil { repair.claimedMore = (source, now) }
                if repair.owedSince != nil { repair.claims.deferred(by: source) }
                return
            }
            counters.add("claims_ignored")
            return
        }
        scheduleInventory(requester: source, now: now, into: &actions)
    }
}
