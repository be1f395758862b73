/// The protocol instance of one node: LAN gossip, validation, delivery, anti-entropy. Pure: no sockets, no clock,
/// no disk. The shell feeds it inputs (`start`, `submit`, `receive`, `timerFired`) and carries out the actions it
/// returns, in order.
///
/// Dissemination: a new envelope is multicast once by its origin. Every `beaconInterval` (±25% jitter) a node
/// multicasts a beacon with the count and XOR-digest of the envelope IDs it holds. A node that hears a beacon that
/// differs from its own sends that peer an inventory (pages of sorted 8-byte ID prefixes, each covering a range);
/// the peer asks (`want`) for what it lacks and pushes what the inventory lacks in that range. This first
/// anti-entropy costs O(store) per round; range-based reconciliation replaces it later.
public struct MeshNode: Sendable {
    public struct Settings: Sendable {
        public var beaconIntervalMillis: Int64 = 3_000
        public var peerTimeoutMillis: Int64 = 15_000
        public var sweepIntervalMillis: Int64 = 60_000
        /// Inventory pages sent to one peer per round.
        public var inventoryPagesPerRound = 32
        /// Envelopes pushed in answer to one inventory page.
        public var maxPushPerPage = 128
        public var reassembly = Reassembler.Settings()

        public init() {}
    }

    public let identity: SigningKeyPair
    public let session: UInt64
    let meshKey: MeshKey
    let settings: Settings
    var rng: SplitMix64

    /// Unexpired envelope IDs held in the store, with their expiry (Unix seconds).
    private var index: [EnvelopeID: UInt64] = [:]
    private var byPrefix: [UInt64: EnvelopeID] = [:]
    private var sortedPrefixCache: [UInt64]? = nil
    private var digest = EnvelopeID.zero
    private var peers: [UInt64: PeerState] = [:]
    private var reassembler: Reassembler
    public private(set) var counters = Counters()

    struct PeerState: Sendable {
        var address: PeerAddress
        var lastSeen: Millis
        var lastInventoryAt: Millis = .min
        var inventoryCursor = 0
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
        /// Repair work queued (pushes, wants, inventory pages waiting for their timer).
        public var pendingRepairs: Int
    }

    public var stateSize: StateSize {
        StateSize(
            envelopes: index.count, peers: peers.count, reassemblyBytes: reassembler.bytesHeld,
            partialEnvelopes: reassembler.partialCount, pendingRepairs: 0)
    }

    // MARK: - Inputs

    /// Loads the IDs already in the store (at start-up). Expired ones are ignored.
    public mutating func load(_ entries: [(id: EnvelopeID, expiresAt: UInt64)], now: Millis) {
        let nowSec = UInt64(max(0, now / 1000))
        for e in entries where e.expiresAt > nowSec {
            insertIndex(e.id, expiresAt: e.expiresAt)
        }
    }

    /// Starts the timers. Call once.
    public mutating func start(now: Millis) -> [Action] {
        var actions: [Action] = []
        let firstBeacon = now + Int64.random(in: 0...min(500, settings.beaconIntervalMillis), using: &rng)
        actions.append(.scheduleTimer(.beacon, at: firstBeacon))
        actions.append(.scheduleTimer(.sweep, at: now + settings.sweepIntervalMillis))
        return actions
    }

    /// A locally made envelope: validated like any other, stored, delivered to ourselves if it is for us, and
    /// multicast. Throws when it would be dropped (expired, malformed).
    public mutating func submit(_ envelope: Envelope, now: Millis) throws(SubmitError) -> [Action] {
        let bytes = envelope.encoded()
        var actions: [Action] = []
        switch accept(bytes, now: now) {
        case .accepted(let stored, let message):
            actions.append(.store(stored, message: message))
            for d in datagrams(forEncoded: bytes, id: stored.id) {
                actions.append(.multicast(d, except: nil))
            }
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

    /// One datagram from the LAN.
    public mutating func receive(_ datagram: [UInt8], from address: PeerAddress, now: Millis) -> [Action] {
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
            onBeacon(from: session, count: count, digest: theirDigest, now: now, into: &actions)
        case .envelope(let bytes):
            onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
        case .fragment(let stream, let offset, let total, let chunk):
            switch reassembler.add(session: session, stream: stream, offset: offset, total: total, chunk: chunk, now: now)
            {
            case .complete(let bytes):
                guard EnvelopeID(ofEncoded: bytes).prefix == stream else {
                    counters.add("drop.fragment_mismatch")
                    break
                }
                onEnvelopeBytes(bytes, from: address, now: now, into: &actions)
            case .pending:
                break
            case .dropped(let reason):
                counters.add("drop.\(reason)")
            }
        case .inventory(let lo, let hi, let prefixes):
            onInventory(lo: lo, hi: hi, prefixes: prefixes, from: address, into: &actions)
        case .want(let prefixes):
            let ids = prefixes.compactMap { byPrefix[$0] }
            if !ids.isEmpty {
                actions.append(.sendStored(ids, to: address))
            }
        }
        return actions
    }

    public mutating func timerFired(_ timer: Timer, now: Millis) -> [Action] {
        var actions: [Action] = []
        switch timer {
        case .beacon:
            let beacon = Packet.beacon(count: UInt32(clamping: index.count), digest: digest)
            actions.append(.multicast(meshKey.seal(beacon, session: session), except: nil))
            peers = peers.filter { now - $0.value.lastSeen < settings.peerTimeoutMillis }
            let expired = reassembler.expire(now: now)
            if expired > 0 { counters.add("drop.reassembly_timeout", Int64(expired)) }
            let quarter = max(1, settings.beaconIntervalMillis / 4)
            let next = now + settings.beaconIntervalMillis + Int64.random(in: -quarter...quarter, using: &rng)
            actions.append(.scheduleTimer(.beacon, at: next))
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

    /// The datagrams that carry a stored envelope, for `.sendStored`.
    public func datagrams(forEncoded bytes: [UInt8], id: EnvelopeID) -> [[UInt8]] {
        Fragmenter.packets(for: bytes, id: id).map { meshKey.seal($0, session: session) }
    }

    // MARK: - Handlers

    private mutating func onBeacon(
        from session: UInt64, count: UInt32, digest theirs: EnvelopeID, now: Millis, into actions: inout [Action]
    ) {
        guard theirs != digest || Int(count) != index.count else { return }
        guard var peer = peers[session] else { return }
        guard peer.lastInventoryAt == .min || now - peer.lastInventoryAt >= settings.beaconIntervalMillis / 2 else {
            return
        }
        peer.lastInventoryAt = now
        let prefixes = sortedPrefixes()
        let perPage = Packet.maxPrefixesPerPacket
        let pageCount = max(1, (prefixes.count + perPage - 1) / perPage)
        if peer.inventoryCursor >= pageCount { peer.inventoryCursor = 0 }
        var page = peer.inventoryCursor
        for _ in 0..<min(pageCount, settings.inventoryPagesPerRound) {
            let start = page * perPage
            let end = min(start + perPage, prefixes.count)
            let lo: UInt64 = page == 0 ? 0 : prefixes[start]
            let hi: UInt64 = end >= prefixes.count ? .max : prefixes[end] - 1
            let slice = start < end ? Array(prefixes[start..<end]) : []
            actions.append(.unicast(meshKey.seal(.inventory(lo: lo, hi: hi, prefixes: slice), session: self.session),
                                    to: peer.address))
            page = (page + 1) % pageCount
        }
        peer.inventoryCursor = page
        peers[session] = peer
        counters.add("inventory_rounds")
    }

    private mutating func onInventory(
        lo: UInt64, hi: UInt64, prefixes: [UInt64], from address: PeerAddress, into actions: inout [Action]
    ) {
        let theirs = Set(prefixes)
        let wants = prefixes.filter { byPrefix[$0] == nil }
        var i = 0
        while i < wants.count {
            let chunk = Array(wants[i..<min(i + Packet.maxPrefixesPerPacket, wants.count)])
            actions.append(.unicast(meshKey.seal(.want(chunk), session: session), to: address))
            i += Packet.maxPrefixesPerPacket
        }
        let mine = sortedPrefixes()
        var push: [EnvelopeID] = []
        var j = lowerBound(mine, lo)
        while j < mine.count, mine[j] <= hi, push.count < settings.maxPushPerPage {
            if !theirs.contains(mine[j]), let id = byPrefix[mine[j]] { push.append(id) }
            j += 1
        }
        if !push.isEmpty {
            actions.append(.sendStored(push, to: address))
        }
    }

    private mutating func onEnvelopeBytes(
        _ bytes: [UInt8], from address: PeerAddress, now: Millis, into actions: inout [Action]
    ) {
        switch accept(bytes, now: now) {
        case .accepted(let stored, let message):
            counters.add("envelopes_new")
            actions.append(.store(stored, message: message))
            // Bridge LAN segments: pass a new envelope on to our other interfaces (none when there is one).
            for d in datagrams(forEncoded: bytes, id: stored.id) {
                actions.append(.multicast(d, except: address.interface))
            }
        case .duplicate:
            counters.add("envelopes_duplicate")
        case .rejected(let reason):
            counters.add("drop.\(reason)")
        }
    }

    enum Acceptance {
        case accepted(StoredEnvelope, ReceivedMessage?)
        case duplicate
        case rejected(String)
    }

    /// Validates an encoded envelope; on success records its ID (only then: dedup state follows authentication).
    private mutating func accept(_ bytes: [UInt8], now: Millis) -> Acceptance {
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
        case .direct:
            do {
                message = try DirectMessage.open(envelope, id: id, with: identity)
            } catch let e where e == .notForUs {
                message = nil  // someone else's: carry it
            } catch {
                // Addressed to us but forged or tampered with: never shown. It is still held like any envelope,
                // because the nodes that carry it cannot tell it is bad; refusing it here would leave our
                // digest different from theirs and re-fetch it every beacon round until it expires.
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
        if message != nil { counters.add("messages_delivered") }
        return .accepted(StoredEnvelope(id: id, kind: envelope.kind, expiresAt: envelope.expiresAt, bytes: bytes), message)
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

    private mutating func sortedPrefixes() -> [UInt64] {
        if let c = sortedPrefixCache { return c }
        let s = byPrefix.keys.sorted()
        sortedPrefixCache = s
        return s
    }

    private func lowerBound(_ a: [UInt64], _ v: UInt64) -> Int {
        var lo = 0
        var hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension MeshNode {
    public enum Timer: Hashable, Sendable {
        case beacon
        case sweep
    }

    /// What the shell must do, in order.
    public enum Action: Sendable, Equatable {
        /// Send this datagram to the mesh group on every LAN interface except the one numbered `except`.
        case multicast([UInt8], except: Int?)
        /// Send this datagram to one peer.
        case unicast([UInt8], to: PeerAddress)
        /// Commit this envelope, with its message when it was for us, in one durable transaction, before carrying
        /// out any later action. On failure call `storeFailed`.
        case store(StoredEnvelope, message: ReceivedMessage?)
        /// Load these envelopes from the store and send each one's `datagrams(forEncoded:id:)` to the peer.
        case sendStored([EnvelopeID], to: PeerAddress)
        /// Delete stored envelopes that expired at or before this time (Unix seconds).
        case deleteExpired(upTo: UInt64)
        /// Call `timerFired(timer, now:)` at this time, replacing any earlier schedule of the same timer.
        case scheduleTimer(Timer, at: Millis)
    }
}
