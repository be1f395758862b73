/// The protocol instance of one node: LAN gossip, validation, delivery, repair. Pure: no sockets, no clock, no
/// disk. The shell feeds it inputs (`start`, `submit`, `receive`, `timerFired`) and carries out the actions it
/// returns, in order.
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
public struct MeshNode: Sendable {
    public struct Settings: Sendable {
        /// Trickle's minimum interval.
        public var beaconIntervalMillis: Int64 = 1_000
        /// Trickle's maximum interval is the minimum doubled this many times.
        public var beaconDoublings = 4
        /// Trickle's redundancy constant k.
        public var redundancy = 2
        /// Random delays for inventories and wants are drawn from [0, repairWindow).
        public var repairWindowMillis: Int64 = 400
        /// A node starts a repair round (its inventory) at most this often, and not within this long of an
        /// inventory from a node holding at least as much.
        public var repairIntervalMillis: Int64 = 4000
        public var peerTimeoutMillis: Int64 = 60_000
        public var sweepIntervalMillis: Int64 = 60_000
        /// Inventory pages multicast per repair round.
        public var inventoryPagesPerRound = 32
        /// Bound on queued wants (prefixes).
        public var maxPendingWants = 8_192
        public var reassembly = Reassembler.Settings()

        public init() {}

        var maxIntervalMillis: Int64 { beaconIntervalMillis << Int64(beaconDoublings) }
    }

    public let identity: SigningKeyPair
    public let session: UInt64
    let meshKey: MeshKey
    let settings: Settings
    var rng: SplitMix64

    /// Unexpired envelope IDs held in the store, with their expiry (Unix seconds).
    private(set) var index: [EnvelopeID: UInt64] = [:]
    private(set) var byPrefix: [UInt64: EnvelopeID] = [:]
    private var sortedPrefixCache: [UInt64]? = nil
    private(set) var digest = EnvelopeID.zero
    var peers: [UInt64: PeerState] = [:]
    var reassembler: Reassembler
    /// Senders' keys, validated and converted once.
    var keys = KeyCache()
    /// Whether new envelopes from the network are passed on to the node's other interfaces (set by the shell
    /// when it has more than one).
    public var bridgesInterfaces = false
    public internal(set) var counters = Counters()

    // Trickle and repair state (MeshNode+Repair.swift).
    var trickle = TrickleState()
    var repair = RepairState()

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
    }

    // MARK: - Queries

    public var envelopeCount: Int { index.count }
    public var peerList: [PeerInfo] {
        peers.map { PeerInfo(session: $0.key, address: $0.value.address, lastSeen: $0.value.lastSeen) }
            .sorted { $0.session < $1.session }
    }
    public func holds(_ id: EnvelopeID) -> Bool { index[id] != nil }
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
            pendingRepairs: repair.wanted.count + (repair.burst?.ids.count ?? 0) + repair.decoder.rows.count
                + (repair.inventoryDue == nil ? 0 : 1))
    }

    // MARK: - Inputs

    /// Loads the IDs already in the store (at start-up). Expired ones are ignored.
    public mutating func load(_ entries: [(id: EnvelopeID, expiresAt: UInt64)], now: Millis) {
        for e in entries { load(e.id, expiresAt: e.expiresAt, now: now) }
    }

    /// Loads one ID already in the store (at start-up, streaming from the database). Ignored when expired.
    public mutating func load(_ id: EnvelopeID, expiresAt: UInt64, now: Millis) {
        guard expiresAt > UInt64(max(0, now / 1000)) else { return }
        insertIndex(id, expiresAt: expiresAt)
    }

    /// Starts the timers. Call once.
    public mutating func start(now: Millis) -> [Action] {
        var actions: [Action] = []
        startInterval(length: settings.beaconIntervalMillis, now: now, into: &actions)
        actions.append(.scheduleTimer(.sweep, at: now + settings.sweepIntervalMillis))
        return actions
    }

    /// A locally made envelope: validated like any other, stored, delivered to ourselves if it is for us, and
    /// multicast. Throws when it would be dropped (expired, malformed, already held).
    /// `mayBeForUs: false` skips the trial decryption of a direct message the caller addressed to someone else.
    public mutating func submit(_ envelope: Envelope, now: Millis, mayBeForUs: Bool = true) throws(SubmitError)
        -> [Action]
    {
        let bytes = envelope.encoded()
        var actions: [Action] = []
        switch accept(bytes, now: now, tryOpening: mayBeForUs) {
        case .accepted(let stored, let message):
            actions.append(.store(stored, message: message))
            for d in datagrams(forEncoded: bytes, id: stored.id) {
                actions.append(.multicast(d, except: nil))
            }
            learnForDecoding(stored, from: nil, now: now, into: &actions)
        case .duplicate:
            throw SubmitError(reason: "duplicate")
        case .rejected(let reason):
            throw SubmitError(reason: reason)
        }
        return actions
    }

    public struct SubmitError: Error, Equatable, Sendable {
        public let reason: String
    }

    /// One datagram from the LAN. `stored` returns the stored envelopes among the IDs it is given: a coded
    /// repair packet combines envelopes, and the ones this node holds are subtracted to solve for the others.
    public mutating func receive(
        _ datagram: [UInt8], from address: PeerAddress, now: Millis,
        stored: ([EnvelopeID]) -> [StoredEnvelope] = { _ in [] }
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
        if peers[session] == nil {
            peers[session] = PeerState(address: address, lastSeen: now)
        } else {
            peers[session]!.address = address
            peers[session]!.lastSeen = now
        }
        switch packet {
        case .beacon(let count, let theirDigest):
            onBeacon(count: count, digest: theirDigest, now: now, into: &actions)
        case .envelope(let bytes):
            onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
        case .fragment(let stream, _, _, _) where byPrefix[stream] != nil,
            .parity(let stream, _, _, _) where byPrefix[stream] != nil:
            // A piece of an envelope we hold: nothing to assemble, but someone is repairing it, so our burst
            // need not.
            counters.add("fragments_for_held")
            if repair.burst != nil { noteRepairHeard([stream]) }
        case .fragment(let stream, let offset, let total, let chunk):
            let outcome = reassembler.add(
                session: session, stream: stream, offset: offset, total: total, chunk: chunk, now: now)
            onReassembly(outcome, stream: stream, from: address, now: now, into: &actions)
        case .parity(let stream, let total, let index, let chunk):
            let outcome = reassembler.addParity(
                session: session, stream: stream, total: total, index: index, parity: chunk, now: now)
            onReassembly(outcome, stream: stream, from: address, now: now, into: &actions)
        case .inventory(let lo, let hi, let count, let theirDigest, let prefixes):
            onInventory(
                from: session, lo: lo, hi: hi, count: count, digest: theirDigest, prefixes: prefixes, now: now,
                into: &actions)
        case .want(let target, let need, let prefixes):
            onWant(target: target, need: need, prefixes: prefixes, now: now, into: &actions)
        case .coded(let members, let coefficients, let payload):
            onCoded(
                members: members, coefficients: coefficients, payload: payload, from: address, now: now,
                stored: stored, into: &actions)
        }
        return actions
    }

    private mutating func onReassembly(
        _ outcome: Reassembler.Outcome, stream: UInt64, from address: PeerAddress, now: Millis,
        into actions: inout [Action]
    ) {
        switch outcome {
        case .complete(let bytes):
            guard EnvelopeID(ofEncoded: bytes).prefix == stream else {
                counters.add("drop.fragment_mismatch")
                return
            }
            onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
        case .pending:
            break
        case .dropped(let reason):
            counters.add("drop.\(reason)")
        }
    }

    public mutating func timerFired(_ timer: Timer, now: Millis) -> [Action] {
        var actions: [Action] = []
        switch timer {
        case .beacon:
            onBeaconTimer(now: now, into: &actions)
        case .interval:
            onIntervalEnd(now: now, into: &actions)
        case .repair:
            onRepairTimer(now: now, into: &actions)
        case .sweep:
            let nowSec = UInt64(max(0, now / 1000))
            let expired = index.filter { $0.value <= nowSec }.map(\.key)
            for id in expired { removeIndex(id) }
            if !expired.isEmpty {
                counters.add("envelopes_expired", Int64(expired.count))
            }
            actions.append(.deleteExpired(upTo: nowSec))
            actions.append(.scheduleTimer(.sweep, at: now + settings.sweepIntervalMillis))
        }
        return actions
    }

    /// The shell could not store an envelope the node accepted: forget it so it can arrive again.
    public mutating func storeFailed(_ id: EnvelopeID) {
        removeIndex(id)
        counters.add("store_failures")
    }

    /// The datagrams that carry an envelope: one, or its fragments and their parity.
    public func datagrams(forEncoded bytes: [UInt8], id: EnvelopeID) -> [[UInt8]] {
        Fragmenter.packets(for: bytes, id: id).map { meshKey.seal($0, session: session) }
    }

    // MARK: - Envelopes

    mutating func onEnvelopeBytes(
        _ bytes: [UInt8], from address: PeerAddress, now: Millis, into actions: inout [Action]
    ) {
        switch accept(bytes, now: now) {
        case .accepted(let stored, let message):
            counters.add("envelopes_new")
            actions.append(.store(stored, message: message))
            // Bridge LAN segments: pass a new envelope on to our other interfaces.
            if bridgesInterfaces {
                for d in datagrams(forEncoded: bytes, id: stored.id) {
                    actions.append(.multicast(d, except: address.interface))
                }
            }
            learnForDecoding(stored, from: address, now: now, into: &actions)
        case .duplicate:
            counters.add("envelopes_duplicate")
            // Someone else is repairing it: our burst need not.
            if repair.burst != nil { noteRepairHeard([EnvelopeID(ofEncoded: bytes).prefix]) }
        case .rejected(let reason):
            counters.add("drop.\(reason)")
        }
    }

    enum Acceptance {
        case accepted(StoredEnvelope, ReceivedMessage?)
        case duplicate
        case rejected(String)
    }

    /// Validates an encoded envelope; on success records its ID (only then: dedup state follows validation).
    private mutating func accept(_ bytes: [UInt8], now: Millis, tryOpening: Bool = true) -> Acceptance {
        let envelope: Envelope
        do {
            envelope = try Envelope(decoding: bytes)
        } catch {
            return .rejected(error.reason)
        }
        let id = EnvelopeID(ofEncoded: bytes)
        if index[id] != nil { return .duplicate }
        let nowSec = UInt64(max(0, now / 1000))
        guard envelope.expiresAt > nowSec else { return .rejected("expired") }
        guard envelope.expiresAt <= nowSec + Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds else {
            return .rejected("expiry_too_far")
        }
        var message: ReceivedMessage? = nil
        switch envelope.kind {
        case .direct where !tryOpening:
            message = nil
        case .direct:
            do {
                message = try DirectMessage.open(envelope, id: id, with: identity, keys: &keys)
            } catch let e where e == .notForUs {
                message = nil  // someone else's: carry it
            } catch {
                // Addressed to us but forged or tampered with: never shown. It is still held like any envelope,
                // because the nodes that carry it cannot tell it is bad; refusing it here would leave our
                // digest different from theirs and re-fetch it every round until it expires.
                counters.add("drop.\(error.reason)")
                message = nil
            }
        case .alert:
            do {
                message = try Alert.verify(envelope, id: id)
            } catch {
                return .rejected(error.reason)
            }
        case .channel, .receipt:
            message = nil  // carried, not yet read by this version
        }
        insertIndex(id, expiresAt: envelope.expiresAt)
        if bytes.count > Packet.maxPayloadBytes { noteLongEnvelope(id, now: now) }
        if message != nil { counters.add("messages_delivered") }
        return .accepted(
            StoredEnvelope(id: id, kind: envelope.kind, expiresAt: envelope.expiresAt, bytes: bytes), message)
    }

    // MARK: - Index

    private mutating func insertIndex(_ id: EnvelopeID, expiresAt: UInt64) {
        guard index.updateValue(expiresAt, forKey: id) == nil else { return }
        byPrefix[id.prefix] = id
        digest = digest ^ id
        sortedPrefixCache = nil
    }

    private mutating func removeIndex(_ id: EnvelopeID) {
        guard index.removeValue(forKey: id) != nil else { return }
        if byPrefix[id.prefix] == id { byPrefix[id.prefix] = nil }
        digest = digest ^ id
        sortedPrefixCache = nil
    }

    mutating func sortedPrefixes() -> [UInt64] {
        if let c = sortedPrefixCache { return c }
        let s = byPrefix.keys.sorted()
        sortedPrefixCache = s
        return s
    }
}

extension MeshNode {
    public enum Timer: Hashable, Sendable {
        /// Trickle: the moment in the current interval to beacon, unless enough agreeing beacons were heard.
        case beacon
        /// Trickle: the end of the current interval.
        case interval
        /// Queued repair work (an inventory, wants) is due.
        case repair
        /// Expired envelopes are forgotten.
        case sweep
    }

    /// What the shell must do, in order.
    public enum Action: Sendable, Equatable {
        /// Send this datagram to the mesh group on every LAN interface except the one numbered `except`.
        case multicast([UInt8], except: Int?)
        /// Commit this envelope, with its message when it was for us, durably and atomically. Call `storeFailed`
        /// if that fails.
        case store(StoredEnvelope, message: ReceivedMessage?)
        /// A repair: load the burst's envelopes from the store and multicast `datagrams(for:envelopes:)` on
        /// every interface.
        case multicastRepair(RepairBurst)
        /// Delete stored envelopes that expired at or before this time (Unix seconds).
        case deleteExpired(upTo: UInt64)
        /// Call `timerFired(timer, now:)` at this time, replacing any earlier schedule of the same timer.
        case scheduleTimer(Timer, at: Millis)
    }
}
