/// One relay link, sans-IO: bytes from the TCP stream in, bytes to write and requests to the shell out. No
/// socket, no clock, no store: the shell passes `now`, answers `.requestSnapshot` and `.fetch`, reports when an
/// envelope it was handed with `.deliver` is settled, and offers new envelopes for live push.
///
/// A link runs in three stages (docs/relays.md, "Link protocol"):
/// 1. **Handshake**: `Noise_XK_25519_ChaChaPoly_BLAKE2b`, prologue `estafette-relay/1`, each message framed by a
///    big-endian u16 length; message 1 carries the initiator's ``RelayHello``, message 2 the relay's. The
///    relay sends nothing but message 2 (exactly as long as message 1) until message 3 proves the initiator's
///    link key; the initiator's message 1 is sealed to the pinned key, so a relay without it cannot answer.
/// 2. **Reconciliation**: the initiator runs Negentropy v1 over `(expires_at, id)` of the unexpired envelopes
///    each side holds; it sends what the relay lacks and asks for what it lacks with `want` records.
/// 3. **Live**: both sides push new envelopes as they arrive. The initiator reconciles again every
///    `resyncMillis`.
///
/// Envelope records flow in a window: at most the receiver's announced window may be unacknowledged. The
/// receiver acknowledges an envelope (cumulatively, in order) only once the shell reports it committed to the
/// store or refused for good, so a crash never loses an acknowledged envelope.
///
/// Parts: `+Handshake` (stage 1), `+Records` (records in, acks, timers), `+Sync` (Negentropy and the send queue).
public struct RelayLinkStateMachine: Sendable {
    /// Which end of the TCP connection this is.
    public enum Role: Sendable, Hashable {
        /// Opened the connection; pins the relay's identity; runs the Negentropy initiator.
        case initiator
        /// Accepted the connection (a relay).
        case responder
    }

    /// Timers the shell runs for the machine: call `timerFired(_:now:)` at the time asked, replacing any
    /// earlier schedule of the same timer.
    public enum Timer: Sendable, Hashable {
        /// The handshake must be over by then.
        case handshake
        /// Time to send a keepalive if nothing else was sent.
        case keepalive
        /// Time to close the link if nothing was received.
        case idle
        /// Time to reconcile again (initiator).
        case resync
    }

    /// What the shell must do, in order.
    public enum Action: Sendable, Equatable {
        /// Write these bytes (one or more whole frames) to the connection.
        case send([UInt8])
        /// Call `timerFired(timer, now:)` at this time, replacing any earlier schedule of the same timer.
        case scheduleTimer(Timer, at: Millis)
        /// The handshake is over: the peer proved `peerStaticKey` (a relay's X25519 key, or an initiator's link
        /// key) and said `hello`.
        case established(peerStaticKey: [UInt8], hello: RelayHello)
        /// Call `snapshot(_:now:)` with the `(expires_at, id)` records of the unexpired envelopes held now.
        case requestSnapshot
        /// Call `fetched(_:now:)` with those of these envelopes the store holds (missing ones left out).
        case fetch([EnvelopeID])
        /// Validate this envelope exactly as one from the LAN, commit it if new, then call
        /// `settled(sequence:_:now:)`. Until then it is not acknowledged.
        case deliver([UInt8], sequence: UInt64)
        /// A reconciliation round ended: both sides now know what the other lacks (the sends may continue).
        case syncCompleted
        /// Close the connection, after writing everything sent before. `error` is nil for an orderly close.
        case close(RelayLinkError?)
    }

    /// How far the link has come.
    public enum Phase: Sendable, Hashable {
        /// `start(now:)` not called yet.
        case created
        case handshaking
        case established
        /// Closed (by either side, or after an error); the machine takes no more input.
        case closed
    }

    /// What crossed the link, for status and the benchmarks.
    public struct Stats: Sendable, Hashable {
        /// Bytes received / sent on the TCP stream, framing included.
        public var bytesIn = 0
        public var bytesOut = 0
        /// Envelope records sent and acknowledged by the peer.
        public var envelopesAcked = 0
        /// Envelope records received that the shell committed as new.
        public var envelopesReceived = 0
        /// Envelope records received (new, duplicate or refused).
        public var envelopeRecordsIn = 0
        /// Envelope records sent.
        public var envelopeRecordsOut = 0
        /// Bytes of Negentropy messages sent and received (without framing).
        public var negentropyBytes = 0
        /// Reconciliation rounds completed.
        public var syncRounds = 0
        /// IDs not queued because the send queue was full (left to the next reconciliation).
        public var sendQueueDrops = 0

        public init() {}
    }

    public let role: Role
    public let settings: RelayLinkSettings
    let localHello: RelayHello
    /// Link keys a relay accepts; empty means any.
    let allowedLinkKeys: Set<[UInt8]>

    public internal(set) var phase: Phase = .created
    public internal(set) var stats = Stats()
    /// The peer's static key once established.
    public internal(set) var peerStaticKey: [UInt8]?
    /// The peer's hello once known.
    public internal(set) var peerHello: RelayHello?
    /// The error that closed the link, if one did.
    public internal(set) var failure: RelayLinkError?

    var handshake: NoiseHandshake?
    var transport: NoiseTransport?
    var decoder: NoiseFrameDecoder
    /// Whether the peer has proved its static key (responder: message 3 read; initiator: message 2 read).
    var authenticated = false

    // Timers.
    var lastSent: Millis = 0
    var lastReceived: Millis = 0

    // Sync state (+Sync).
    var negentropy: NegentropySession?
    var snapshotPending = false
    var bufferedNegentropy: [UInt8]?
    var reconciling = false
    /// Envelope IDs to send, in order, with whether they go as live pushes.
    var sendQueue: [(id: EnvelopeID, live: Bool)] = []
    var sendQueueHead = 0
    var queued: Set<EnvelopeID> = []
    var fetching: [EnvelopeID: Bool] = [:]
    var fetchOutstanding = false

    // Window state (+Records).
    /// Envelope records sent, and the peer's last acknowledgement.
    var sentCount: UInt64 = 0
    var ackReceived: UInt64 = 0
    /// Envelope records received, the count settled in order, the last acknowledgement sent.
    var receivedCount: UInt64 = 0
    var settledPrefix: UInt64 = 0
    var ackSent: UInt64 = 0
    var settledAhead: Set<UInt64> = []

    /// The side that links out: a node (or relay) with its link key, pinning the relay's identity.
    public init(
        initiatorWithLinkKey linkKey: NoiseKeyPair, relay: SigningPublicKey, localRole: RelayHello.Role,
        settings: RelayLinkSettings = .init()
    ) throws(RelayLinkError) {
        do {
            handshake = try NoiseHandshake.relayInitiator(linkKey: linkKey, relay: relay)
        } catch {
            throw .handshake(error)
        }
        self.role = .initiator
        self.settings = settings
        self.allowedLinkKeys = []
        self.localHello = RelayHello(role: localRole, receiveWindow: UInt16(clamping: settings.receiveWindow))
        // The relay's message 2: its hello and room for a longer one from a later version.
        self.decoder = NoiseFrameDecoder(maximumFrameLength: settings.maxFirstMessage)
    }

    /// A relay's side of an accepted connection. `allowedLinkKeys` empty means anyone may link.
    public init(
        responderWithIdentity identity: SigningKeyPair, allowedLinkKeys: Set<[UInt8]> = [],
        settings: RelayLinkSettings = .init()
    ) {
        self.handshake = NoiseHandshake.relayResponder(identity: identity)
        self.role = .responder
        self.settings = settings
        self.allowedLinkKeys = allowedLinkKeys
        self.localHello = RelayHello(role: .relay, receiveWindow: UInt16(clamping: settings.receiveWindow))
        self.decoder = NoiseFrameDecoder(maximumFrameLength: settings.maxFirstMessage)
    }

    /// Envelope records sent and not yet acknowledged.
    public var inFlight: Int { Int(sentCount - ackReceived) }
    /// Envelope IDs waiting to be sent.
    public var queuedToSend: Int { sendQueue.count - sendQueueHead + fetching.count }
    /// Whether a reconciliation round is running.
    public var isReconciling: Bool { reconciling }
    /// Whether nothing is left to send or to acknowledge in either direction and no round is running: the
    /// link has converged for now.
    public var isQuiescent: Bool {
        phase == .established && !reconciling && queuedToSend == 0 && inFlight == 0 && receivedCount == ackSent
            && !snapshotPending
    }

    /// The window this side keeps to when sending.
    var sendWindow: Int {
        min(settings.maxSendWindow, Int(peerHello?.receiveWindow ?? 1))
    }

    // MARK: Failing and closing

    /// Moves to `.closed` with `error` and asks the shell to close.
    mutating func fail(_ error: RelayLinkError, into actions: inout [Action]) {
        guard phase != .closed else { return }
        phase = .closed
        failure = error
        handshake = nil
        transport = nil
        negentropy = nil
        actions.append(.close(error))
    }

    /// The shell is closing the link (shutdown, link removed): a close record if established, then `.close`.
    public mutating func close(_ reason: RelayRecord.CloseReason, now: Millis) -> [Action] {
        var actions: [Action] = []
        if phase == .established {
            sendRecord(.close(reason), now: now, into: &actions)
        }
        if phase != .closed {
            phase = .closed
            handshake = nil
            transport = nil
            actions.append(.close(nil))
        }
        return actions
    }

    /// The peer closed the TCP connection (or it broke).
    public mutating func peerClosed(now: Millis) -> [Action] {
        var actions: [Action] = []
        switch phase {
        case .created, .handshaking:
            fail(role == .initiator && !authenticated ? .handshakeRefused : .peerClosed("eof"), into: &actions)
        case .established:
            fail(.peerClosed("eof"), into: &actions)
        case .closed:
            break
        }
        return actions
    }
}
