/// The protocol instance of one node: LAN gossip, validation, delivery, repair. Pure: no sockets, no clock, no
/// disk. The shell feeds it inputs (`start`, `submit`, `receive`, `timerFired`, …) and carries out the actions it
/// returns, in order. The envelopes' bodies stay in the shell's store; an event that needs some (a coded packet to
/// solve, a repair burst to send) reads them through the `EnvelopeLookup` the shell passes with it.
///
/// Dissemination (see docs/protocol.md):
/// - A new envelope is multicast once by its origin.
/// - Beacons (count and XOR-digest of the IDs held) follow a Trickle timer (RFC 6206): the interval doubles from
///   `beaconIntervalMillis` up to `beaconIntervalMillis << beaconDoublings` while the mesh agrees, a node stays
///   quiet in an interval where it heard `redundancy` beacons that agree with it (but never for longer than the
///   maximum interval, so that every node stays visible as a peer), and any disagreement resets the interval to
///   its minimum.
/// - Repair, all by multicast with suppression: a node that hears a disagreeing beacon schedules its inventory
///   (sorted 8-byte ID prefixes, in range pages) after a random delay, and drops it if a node with the same digest
///   sends one first. A node that learns from an inventory what it lacks schedules a `want` addressed to that
///   inventory's sender, saying how many it lacks (`need`) and listing those nobody has asked for yet; it stays
///   silent when the wants it heard already cover its list and its need. The addressed node collects the wants
///   for one repair window, then multicasts one burst: `need` random linear combinations of the wanted envelopes
///   (`CodedRepair`), or the envelopes themselves when that is no more. Each receiver solves for the few it lacks
///   (`CodedDecoder`), so one coded packet repairs a different loss at every receiver.
///
/// The node's parts live in: `MeshNode+Settings` (parameters), `MeshNode+Action` (timers and actions),
/// `MeshNode+Local` (envelopes made here), `MeshNode+Receipts` (delivery receipts), `MeshNode+Envelopes`
/// (validation and the index), `MeshNode+Trickle`
/// (beacons), `MeshNode+Repair` (repair rounds) and `MeshNode+Coded` (coded bursts and their decoding).
public struct MeshNode: Sendable {
    public let identity: SigningKeyPair
    public let session: UInt64
    let meshKey: MeshKey
    let settings: Settings
    var rng: SplitMix64

    /// Unexpired envelope IDs held in the store, with their expiry (Unix seconds), by ID and by prefix.
    var index = EnvelopeIndex()
    var sortedPrefixCache: [UInt64]? = nil
    /// The held IDs sorted by prefix, with sums for range fingerprints (summaries; built when first needed).
    var rangeCache: RangeFingerprints? = nil
    var digest = EnvelopeID.zero
    /// Peers by session: at most `settings.maxPeers`, and `settings.maxPeersPerSource` from one source address.
    var peers: [UInt64: PeerState] = [:]
    /// The sessions of `peers` by source address.
    var peersBySource: [String: Set<UInt64>] = [:]
    /// While the peer table is full of live peers, when its oldest may have gone quiet (no scan before).
    var peerTableRescanAt: Millis = .min
    var reassembler: Reassembler
    /// Senders' and recipients' keys, validated and converted once.
    var keys = KeyCache()
    /// The passphrase channels this node's user joined (`MeshNode+Channels.swift`).
    var channels: [ChannelKey] = []
    /// Whether new envelopes from the network are passed on to the node's other interfaces: a node with more than
    /// one bridges them (see `interfacesChanged(count:)`).
    public private(set) var bridgesInterfaces = false
    /// The sequence number the next alert made here gets (see `resumeAlerts(after:)`).
    public internal(set) var nextAlertSequence: UInt64 = 1
    public internal(set) var counters = Counters()
    /// Direct messages sent here to others whose delivery receipts may still come (`MeshNode+Receipts.swift`).
    var awaitedReceipts: [EnvelopeID: AwaitedReceipt] = [:]

    // Trickle and repair state (RepairState.swift).
    var trickle = TrickleState()
    var repair = RepairState()
    /// Budgets per source and per author, and the clock evidence (DataGuards.swift).
    var guards: DataGuards

    struct PeerState: Sendable {
        var address: PeerAddress
        var lastSeen: Millis
    }

    public struct PeerInfo: Sendable, Equatable {
        public let session: UInt64
        public let address: PeerAddress
        public let lastSeen: Millis
    }

    public init(identity: SigningKeyPair, meshKey: MeshKey, session: UInt64, seed: UInt64, settings: Settings = .init())
    {
        self.identity = identity
        self.meshKey = meshKey
        self.session = session
        self.settings = settings
        self.rng = SplitMix64(seed: seed)
        self.reassembler = Reassembler(settings: settings.reassembly)
        self.guards = DataGuards(settings: settings.data)
    }

    // MARK: - Queries

    public var envelopeCount: Int { index.count }
    public var peerList: [PeerInfo] {
        peers.map { PeerInfo(session: $0.key, address: $0.value.address, lastSeen: $0.value.lastSeen) }
            .sorted { $0.session < $1.session }
    }
    public func holds(_ id: EnvelopeID) -> Bool { index.contains(id) }
    public var storeDigest: (count: Int, digest: EnvelopeID) { (index.count, digest) }
    public var reassemblyBytesHeld: Int { reassembler.bytesHeld }

    /// How much state the node holds, for memory-bound checks (the simulator, tests).
    public struct StateSize: Sendable, Equatable {
        public var envelopes: Int
        public var peers: Int
        public var reassemblyBytes: Int
        public var partialEnvelopes: Int
        /// Repair work queued (wants, recently pushed envelopes, a scheduled inventory).
        public var pendingRepairs: Int
    }

    public var stateSize: StateSize {
        StateSize(
            envelopes: index.count, peers: peers.count, reassemblyBytes: reassembler.bytesHeld,
            partialEnvelopes: reassembler.partialCount,
            pendingRepairs: repair.wanted.count + (repair.burst?.ids.count ?? 0)
                + repair.decoders.values.reduce(0) { $0 + $1.rows.count } + repair.sharedDecoder.rows.count
                + (repair.inventoryDue == nil ? 0 : 1))
    }

    // MARK: - Start-up

    /// Loads the IDs already in the store (at start-up). Expired ones are ignored.
    public mutating func load(_ entries: [(id: EnvelopeID, expiresAt: UInt64)], now: Millis) {
        index.reserveCapacity(index.count + entries.count)
        for e in entries { load(e.id, expiresAt: e.expiresAt, now: now) }
    }

    /// Makes room in the index for `n` envelopes (before loading them one by one).
    public mutating func reserveEnvelopes(_ n: Int) { index.reserveCapacity(n) }

    /// Loads one ID already in the store (at start-up, streaming from the database). Ignored when expired.
    public mutating func load(_ id: EnvelopeID, expiresAt: UInt64, now: Millis) {
        guard expiresAt > UInt64(max(0, now / 1000)) else { return }
        insertIndex(id, expiresAt: expiresAt)
    }

    /// The last sequence number this node's identity gave an alert, as found in the store at start-up: the next
    /// alert made here gets the one after it.
    public mutating func resumeAlerts(after lastSequence: UInt64) {
        nextAlertSequence = max(nextAlertSequence, min(lastSequence, .max - 1) + 1)
    }

    /// Starts the timers. Call once.
    public mutating func start(now: Millis) -> [Action] {
        var actions: [Action] = []
        startInterval(length: settings.beaconIntervalMillis, now: now, into: &actions)
        actions.append(.scheduleTimer(.sweep, at: now + settings.sweepIntervalMillis))
        return actions
    }

    // MARK: - Inputs

    /// The shell joined a new set of LAN interfaces (0 when it has none). A node on several bridges them: it
    /// passes each new envelope from one on to the others.
    public mutating func interfacesChanged(count: Int) {
        bridgesInterfaces = count > 1
    }

    /// One datagram from the LAN. A coded repair packet combines envelopes: the ones this node holds are read
    /// through `store` (once) and subtracted, to solve for the others.
    public mutating func receive(
        _ datagram: [UInt8], from address: PeerAddress, now: Millis, store: some EnvelopeLookup
    ) -> [Action] {
        var actions: [Action] = []
        counters.add("packets_in")
        let session: UInt64
        let packet: Packet
        do {
            (session, packet) = try meshKey.open(datagram)
        } catch {
            counters.add("drop.\(error.reason)")
            return actions
        }
        if session == self.session {
            counters.add("own_packets")
            return actions
        }
        let source = address.source
        notePeer(session, address: address, now: now)
        switch packet {
        case .beacon, .inventory, .want, .summary:
            // A request (a disagreeing beacon, inventory or summary asks for ours, a want for a burst): it earns
            // its source answers.
            earnAnswers(datagram.count, from: source, now: now)
        case .envelope, .fragment, .parity, .coded:
            break
        }
        switch packet {
        case .beacon(let wireCount, let wireDigest):
            // Beacons carry a keyed digest and a coarse count (BeaconFields.swift).
            let (count, theirDigest) = beaconAsHeard(count: wireCount, digest: wireDigest, from: session)
            onBeacon(count: count, digest: theirDigest, from: source, now: now, into: &actions)
        case .envelope(let bytes):
            onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
        case .fragment(let stream, _, _, _) where index.hasPrefix(stream),
            .parity(let stream, _, _, _) where index.hasPrefix(stream):
            // A piece of an envelope we hold: nothing to assemble, but someone is repairing it, so our burst
            // need not (if the piece is true to what we hold).
            counters.add("fragments_for_held")
            if let burst = repair.burst, let id = index.id(prefix: stream), burst.ids.contains(id),
                verifyHeldPiece(packet, id: id, from: source, now: now, store: store)
            {
                noteRepairHeard([stream])
            }
        case .fragment(let stream, let offset, let total, let chunk):
            let outcome = reassembler.add(
                source: source, stream: stream, offset: offset, total: total, chunk: chunk, now: now)
            onReassembly(outcome, stream: stream, from: address, now: now, into: &actions)
        case .parity(let stream, let total, let index, let chunk):
            let outcome = reassembler.addParity(
                source: source, stream: stream, total: total, index: index, parity: chunk, now: now)
            onReassembly(outcome, stream: stream, from: address, now: now, into: &actions)
        case .inventory(let lo, let hi, let count, let theirDigest, let prefixes):
            onInventory(
                from: session, source: source, lo: lo, hi: hi, count: count, digest: theirDigest, prefixes: prefixes,
                now: now, into: &actions)
        case .summary(let lo, let hi, let count, let theirDigest, let ranges):
            onSummary(
                from: session, source: source, lo: lo, hi: hi, count: count, digest: theirDigest, ranges: ranges,
                now: now, into: &actions)
        case .want(let target, let need, let prefixes):
            onWant(target: target, need: need, prefixes: prefixes, from: source, now: now, into: &actions)
        case .coded(let members, let coefficients, let payload):
            onCoded(
                members: members, coefficients: coefficients, payload: payload, from: address, now: now,
                store: store, into: &actions)
        }
        return actions
    }

    /// A timer the node scheduled is due. A repair burst reads its envelopes through `store` (once).
    public mutating func timerFired(_ timer: Timer, now: Millis, store: some EnvelopeLookup) -> [Action] {
        var actions: [Action] = []
        switch timer {
        case .beacon:
            onBeaconTimer(now: now, into: &actions)
        case .interval:
            onIntervalEnd(now: now, into: &actions)
        case .repair:
            onRepairTimer(now: now, store: store, into: &actions)
        case .sweep:
            let nowSec = UInt64(max(0, now / 1000))
            let expired = index.expired(atOrBefore: nowSec)
            for id in expired { removeIndex(id) }
            sweepAwaitedReceipts(nowSec: nowSec)
            if !expired.isEmpty {
                counters.add("envelopes_expired", Int64(expired.count))
            }
            actions.append(.deleteExpired(upTo: nowSec))
            actions.append(.scheduleTimer(.sweep, at: now + settings.sweepIntervalMillis))
        }
        return actions
    }

    /// Records a peer heard from, within the table's bounds: a new session from a source already at
    /// `maxPeersPerSource` replaces that source's least recently heard one; a new source when the table is full
    /// takes the place of a peer quiet for half a peer timeout, or is not tracked (counted). O(1) per datagram but
    /// for a scan of a source's few sessions, and one scan of the table per half timeout while it is full.
    mutating func notePeer(_ session: UInt64, address: PeerAddress, now: Millis) {
        let source = address.source
        if var known = peers[session] {
            if known.address.source != source {
                forgetPeerSession(session, of: known.address.source)
                peersBySource[source, default: []].insert(session)
            }
            known.address = address
            known.lastSeen = now
            peers[session] = known
            return
        }
        if let mine = peersBySource[source], mine.count >= settings.maxPeersPerSource {
            if let oldest = mine.min(by: { (peers[$0]?.lastSeen ?? .min) < (peers[$1]?.lastSeen ?? .min) }) {
                peers[oldest] = nil
                forgetPeerSession(oldest, of: source)
            }
            counters.add("peers_replaced")
        } else if peers.count >= settings.maxPeers {
            // Every live peer beacons at least once per maximum Trickle interval (a third of the timeout).
            let quiet = settings.peerTimeoutMillis / 2
            guard now >= peerTableRescanAt,
                let stale = peers.min(by: { $0.value.lastSeen < $1.value.lastSeen })
            else {
                counters.add("drop.peer_table_full")
                return
            }
            guard now - stale.value.lastSeen >= quiet else {
                peerTableRescanAt = stale.value.lastSeen + quiet
                counters.add("drop.peer_table_full")
                return
            }
            peers[stale.key] = nil
            forgetPeerSession(stale.key, of: stale.value.address.source)
        }
        peers[session] = PeerState(address: address, lastSeen: now)
        peersBySource[source, default: []].insert(session)
    }

    private mutating func forgetPeerSession(_ session: UInt64, of source: String) {
        peersBySource[source]?.remove(session)
        if peersBySource[source]?.isEmpty == true { peersBySource[source] = nil }
    }

    /// The shell could not store an envelope the node accepted: forget it so it can arrive again.
    public mutating func storeFailed(_ id: EnvelopeID) {
        removeIndex(id)
        awaitedReceipts[id] = nil
        counters.add("store_failures")
    }

    /// The datagrams that carry an envelope: one, or its fragments and their parity.
    public func datagrams(forEncoded bytes: [UInt8], id: EnvelopeID) -> [[UInt8]] {
        Fragmenter.packets(for: bytes, id: id).map { meshKey.seal($0, session: session) }
    }
}
