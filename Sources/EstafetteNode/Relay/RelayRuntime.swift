import EstafetteCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The daemon's relay links: accepts links when the relay role is on (per-IP and total caps; the machine's
/// handshake timeout), links out to the configured relays with capped, jittered exponential backoff, and
/// connects each link's `RelayLinkStateMachine` (through `RelayLinkHandler`) to the node (`RelayNodePort`).
///
/// Parts: `RelayRuntime+Serve` (one link's requests to the node), `RelayRuntime+Connect` (listening and
/// linking out).
public final class RelayRuntime: Service, Sendable {
    let config: RelayRuntimeConfig
    let identity: SigningKeyPair
    let port: any RelayNodePort
    let logger: Logger
    let state: NIOLockedValueBox<State>
    let changes: AsyncStream<Void>
    let changed: AsyncStream<Void>.Continuation

    struct LiveLink: Sendable {
        let handler: NIOLoopBound<RelayLinkHandler>
        let statusKey: String
    }

    struct State: Sendable {
        var nextLinkID = 1
        /// Established links, by link number: where live pushes go.
        var live: [Int: LiveLink] = [:]
        /// Every link's handler (established or not), for shutdown.
        var handlers: [Int: NIOLoopBound<RelayLinkHandler>] = [:]
        /// Status by key: the address of an outgoing link, `in:<ip:port>` for an incoming one.
        var statuses: [String: RelayLinkStatus] = [:]
        /// Outgoing links wanted now, by address.
        var desired: [String: RelayLinkConfig] = [:]
        /// Outgoing links that have a supervising task.
        var supervised: Set<String> = []
        var perIP: [String: Int] = [:]
        var incoming = 0
        var boundPort: Int?
        var stopping = false
        /// The latest counters of each open link, and the sums of the closed ones.
        var linkStats: [Int: RelayLinkStateMachine.Stats] = [:]
        var closedAcked = 0
        var closedReceived = 0
        var refusals = 0
    }

    public init(config: RelayRuntimeConfig, identity: SigningKeyPair, node: any RelayNodePort, logger: Logger) {
        self.config = config
        self.identity = identity
        self.port = node
        self.logger = logger
        var s = State()
        for l in config.links { s.desired[l.address] = l }
        self.state = NIOLockedValueBox(s)
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The port the listener is bound to (nil before it is, or when the relay role is off).
    public var boundPort: Int? { state.withLockedValue { $0.boundPort } }

    /// The status of every outgoing link and every incoming one, sorted by address.
    public func statuses() -> [RelayLinkStatus] {
        state.withLockedValue { Array($0.statuses.values) }.sorted {
            ($0.incoming ? 1 : 0, $0.address) < ($1.incoming ? 1 : 0, $1.address)
        }
    }

    /// Counters for `node.status`: links established now, envelopes sent and acknowledged, envelopes received
    /// and committed as new, and links refused in the handshake (since start).
    public func counters() -> [String: Int64] {
        state.withLockedValue { s in
            let open = s.linkStats.values
            return [
                "relay.links_live": Int64(s.live.count),
                "relay.envelopes_acked": Int64(s.closedAcked + open.reduce(0) { $0 + $1.envelopesAcked }),
                "relay.envelopes_received": Int64(s.closedReceived + open.reduce(0) { $0 + $1.envelopesReceived }),
                "relay.refused": Int64(s.refusals),
            ]
        }
    }

    /// Replaces the set of outgoing links (relays.add / relays.remove): new ones are linked, removed ones are
    /// closed.
    public func setLinks(_ links: [RelayLinkConfig]) {
        let removed: [NIOLoopBound<RelayLinkHandler>] = state.withLockedValue { s in
            let wanted = Dictionary(links.map { ($0.address, $0) }, uniquingKeysWith: { _, b in b })
            var gone: [NIOLoopBound<RelayLinkHandler>] = []
            for (address, old) in s.desired where wanted[address] != old {
                for (id, l) in s.live where l.statusKey == address {
                    gone.append(l.handler)
                    s.live[id] = nil
                }
                s.statuses[address] = nil
            }
            s.desired = wanted
            return gone
        }
        for h in removed { h.eventLoop.execute { h.value.shutdown() } }
        changed.yield()
    }

    /// New envelopes the node committed: each is pushed live to every established link except the one it came
    /// from (`origin`).
    public func push(_ envelopes: [(id: EnvelopeID, origin: Int?)]) {
        guard !envelopes.isEmpty else { return }
        let links = state.withLockedValue { Array($0.live) }
        for (linkID, link) in links {
            let ids = envelopes.compactMap { $0.origin == linkID ? nil : $0.id }
            guard !ids.isEmpty else { continue }
            let h = link.handler
            h.eventLoop.execute { h.value.offer(ids) }
        }
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await withTaskCancellationHandler {
                    try await withThrowingDiscardingTaskGroup { group in
                        if let listen = self.config.listen {
                            let server = try await self.bind(listen)
                            group.addTask { await self.serveIncoming(server) }
                        }
                        group.addTask { await self.superviseOutgoing() }
                    }
                } onCancel: {
                    self.stopAll()
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
        logger.info("relay links stopped")
    }

    /// Closes every link (a close record each) and stops new ones.
    func stopAll() {
        let handlers = state.withLockedValue { s in
            s.stopping = true
            return Array(s.handlers.values)
        }
        for h in handlers { h.eventLoop.execute { h.value.shutdown() } }
        changed.finish()
    }

    /// A new link number.
    func allocateLinkID() -> Int {
        state.withLockedValue { s in
            defer { s.nextLinkID += 1 }
            return s.nextLinkID
        }
    }

    func updateStatus(_ key: String, _ body: (inout RelayLinkStatus) -> Void) {
        state.withLockedValue { s in
            guard var st = s.statuses[key] else { return }
            body(&st)
            s.statuses[key] = st
        }
    }
}
