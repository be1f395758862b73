/// The bounds and timers of one relay link (docs/relays.md, "Link protocol"). The defaults are what the daemon
/// uses; tests and the simulator shorten the timers.
public struct RelayLinkSettings: Sendable, Hashable {
    /// A handshake not finished this long after the connection opened is abandoned (both sides).
    public var handshakeTimeoutMillis: Int64 = 10_000
    /// Envelope records this side accepts in flight (sent by the peer, not yet acknowledged). Announced in the
    /// hello; a peer that sends more is refused.
    public var receiveWindow: Int = 256
    /// The most envelope records this side keeps in flight, whatever larger window the peer announces.
    public var maxSendWindow: Int = 256
    /// A keepalive is sent after this long without sending anything.
    public var keepaliveMillis: Int64 = 30_000
    /// The link is closed after this long without receiving anything (three keepalives missed).
    public var idleTimeoutMillis: Int64 = 95_000
    /// The initiator reconciles again this long after the last reconciliation ended, to catch what live pushes
    /// missed (a push queue overflow, a crash of the sender between commit and push).
    public var resyncMillis: Int64 = 600_000
    /// Envelope IDs queued to send on one link (reconciliation results, wants and live pushes); beyond, IDs are
    /// dropped (counted) and left to the next reconciliation.
    public var maxSendQueue: Int = 262_144
    /// Largest Negentropy message this side builds (the protocol's minimum is 4096; a record holds 65518).
    public var negentropyFrameLimit: Int = 60_000
    /// Largest first handshake message a responder reads: the hello plus room for later versions.
    public var maxFirstMessage: Int = 1_024

    public init() {}
}
