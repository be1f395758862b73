import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    /// When a beacon last showed a node holding more than we do.
    var moreHeldElsewhereAt: Millis = .min
    /// Where the next inventory round starts (pages beyond one round are sent in later rounds).
    var inventoryCursor = 0
    /// Prefixes we lack → the node we will ask for them: of the inventories that listed them, the sender
    /// holding the most (then the lowest session), so that the nodes lacking things mostly ask the same one.
    var wanted: [UInt64: Offer] = [:]
    /// When our wants go out.
    var wantsDue: Millis? = nil
    /// Wants other nodes sent while ours wait (to any node: the round's burst pools them).
    var heardWants = HeardWants()
    /// Our inventory in the current round, if we sent one, and the best one we heard from another node.
    var ownInventory: (offer: Offer, at: Millis)? = nil
    var bestInventoryHeard: (offer: Offer, at: Millis)? = nil
    /// When each node last sent an inventory, for a round's length: an inventory sender collects the wants
    /// addressed to the other senders of its own round, not those of a later round, and a node asking for
    /// something switches to this round's sender from one whose round is over.
    var inventoryHeardAt: [UInt64: Millis] = [:]
    /// Envelopes too long for one datagram that we received or sent recently, and when: a node lacking one most
    /// likely holds a partial of it, so a repair sends parities rather than the whole envelope.
    var recentLong: [EnvelopeID: Millis] = [:]
    /// The prefixes of our last burst, and when it went: wants for them that arrive within a repair window
    /// crossed it on the way (their senders had not received it yet) and are not answered again.
    var lastBurst: (prefixes: Set<UInt64>, at: Millis)? = nil
    /// Prefixes we asked for (or heard asked for), and when: not asked again until the burst had time to come.
    var asked: [UInt64: Millis] = [:]
    /// The repair we will multicast when the wants addressed to us have had a repair window to arrive.
    var burst: Burst? = nil
    /// Coded packets received but not yet solved.
    var decoder = CodedDecoder()
    var repairTimerAt: Millis? = nil
}

/// An inventory sender that listed a prefix we lack.
struct Offer: Sendable {
    var session: UInt64
    var count: UInt32

    func isBetter(than other: Offer) -> Bool {
        (count, other.session) > (other.count, session)
    }
}

/// What the wants of a round asked, as far as we heard.
struct HeardWants: Sendable {
    var prefixes: Set<UInt64> = []
    /// The largest need among them.
    var need = 0
}

struct Burst: Sendable {
    var due: Millis
    var ids: Set<EnvelopeID> = []
    var need = 0
}

/// One repair burst: what to send and for how many losses per receiver. Carried out by the shell through
/// `MeshNode.datagrams(for:envelopes:)`.
public struct RepairBurst: Sendable, Equatable {
    /// The envelopes asked for, sorted.
    public let ids: [EnvelopeID]
    /// The most of them any one asking node lacks.
    public let need: Int
    /// Long envelopes among them sent so recently that the nodes lacking them hold partials: parities repair
    /// them.
    public let parityOnly: [EnvelopeID]
    /// Seeds the coefficients, so that a run is reproducible.
    let seed: UInt64
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
        repair.asked = repair.asked.filter { now - $0.value < 3 * settings.repairWindowMillis }
        repair.inventoryHeardAt = repair.inventoryHeardAt.filter { now - $0.value < roundMillis }
        repair.recentLong = repair.recentLong.filter { now - $0.value < recentLongMillis }
        let stale = repair.decoder.expire(now: now)
        if stale > 0 { counters.add("drop.coded_timeout", Int64(stale)) }
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
        if Int(count) > envelopeCount {
            // That node holds more: its inventory, not ours, starts the round (ours is the one our beacon
            // makes it schedule). If we also hold something it lacks, a later round brings our turn.
            repair.moreHeldElsewhereAt = now
            return
        }
        scheduleInventory(now: now, into: &actions)
    }

    // MARK: - Repair

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

    mutating func onRepairTimer(now: Millis, into actions: inout [Action]) {
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
                actions.append(
                    .multicastRepair(
                        RepairBurst(ids: ids, need: burst.need, parityOnly: parityOnly, seed: rng.next())))
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

    // MARK: - Coded repair

    /// The datagrams of a repair burst, given the envelopes the store found among its IDs.
    public mutating func datagrams(for burst: RepairBurst, envelopes: [StoredEnvelope]) -> [[UInt8]] {
        var rng = SplitMix64(seed: burst.seed)
        let packets = CodedRepair.packets(
            for: envelopes.map { (id: $0.id, bytes: $0.bytes) }, need: burst.need,
            parityOnly: Set(burst.parityOnly), rng: &rng)
        for p in packets {
            if case .coded = p { counters.add("coded_sent") } else { counters.add("whole_repairs_sent") }
        }
        return packets.map { meshKey.seal($0, session: session) }
    }

    mutating func onCoded(
        members: [UInt64], coefficients: [UInt8], payload: [UInt8], from address: PeerAddress, now: Millis,
        stored: ([EnvelopeID]) -> [StoredEnvelope], into actions: inout [Action]
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
            for e in stored(held.map(\.id)) { bytes[e.id] = e.bytes }
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
