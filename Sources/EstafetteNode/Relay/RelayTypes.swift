import EstafetteCore

/// The contract between the relay link runtime (`RelayRuntime`, branch relay-link) and the rest of the daemon
/// (config, key file, store, API; branch relay-ops). The runtime needs only these values; it never reads the
/// config file, the key file or the relays table itself.

/// One relay this node links out to: where it listens and the identity it must prove (the pin).
public struct RelayLinkConfig: Sendable, Hashable {
    /// `host:port` as the operator wrote it (a name or an IPv4/IPv6 literal; `[v6]:port` for IPv6).
    public var address: String
    /// The relay's Ed25519 identity (its `es1…` ID decoded): the Noise static key it must hold is the X25519
    /// form of this key. A relay that does not hold it cannot answer the first handshake message.
    public var pinnedID: SigningPublicKey

    public init(address: String, pinnedID: SigningPublicKey) {
        self.address = address
        self.pinnedID = pinnedID
    }
}

/// The listening side: set when `[relay] enabled = true`.
public struct RelayListenConfig: Sendable, Hashable {
    /// Host to bind (`0.0.0.0`, `::`, or an address).
    public var host: String
    /// TCP port to bind (0 picks a free one; the runtime reports the bound port).
    public var port: Int
    /// Link keys (32-byte X25519 public keys) allowed to link; empty means anyone may.
    public var allowedLinkKeys: Set<[UInt8]>
    /// Links accepted at once from one IP address.
    public var maxConnectionsPerIP: Int
    /// Links accepted at once in total.
    public var maxConnections: Int

    public init(
        host: String, port: Int, allowedLinkKeys: Set<[UInt8]> = [], maxConnectionsPerIP: Int = 4,
        maxConnections: Int = 256
    ) {
        self.host = host
        self.port = port
        self.allowedLinkKeys = allowedLinkKeys
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.maxConnections = maxConnections
    }
}

/// Everything the runtime is started with.
public struct RelayRuntimeConfig: Sendable {
    /// This node's link key (the X25519 key pair in the data dir, never the messaging identity): the Noise
    /// static key of the links it opens.
    public var linkKey: NoiseKeyPair
    /// Accept links (relay role), or nil for a node that only links out.
    public var listen: RelayListenConfig?
    /// Relays to link to at start; more can be added and removed at run time (`RelayRuntime.setLinks`).
    public var links: [RelayLinkConfig]
    /// Reconnect backoff: first delay and cap, in milliseconds (each delay is jittered by ±50%).
    public var backoffInitialMillis: Int64
    public var backoffMaxMillis: Int64
    /// Settings of the link state machine (handshake timeout, windows, keepalive).
    public var machine: RelayLinkSettings
    /// The relay quota every envelope from a link is admitted through (its share per link key, eviction of what
    /// expires soonest); nil admits everything (tests of the link alone).
    public var quota: RelayQuota?

    public init(
        linkKey: NoiseKeyPair, listen: RelayListenConfig? = nil, links: [RelayLinkConfig] = [],
        backoffInitialMillis: Int64 = 1_000, backoffMaxMillis: Int64 = 60_000, machine: RelayLinkSettings = .init(),
        quota: RelayQuota? = nil
    ) {
        self.quota = quota
        self.linkKey = linkKey
        self.listen = listen
        self.links = links
        self.backoffInitialMillis = backoffInitialMillis
        self.backoffMaxMillis = backoffMaxMillis
        self.machine = machine
    }
}

/// The state of one configured outgoing link, or of one accepted incoming link, as `relays.list` shows it.
public struct RelayLinkStatus: Sendable, Hashable {
    /// Where the link goes (outgoing) or comes from (incoming, `ip:port`).
    public var address: String
    /// The relay's `es1…` ID (outgoing), or the peer's link key in hex (incoming).
    public var id: String
    /// `connecting`, `handshaking`, `syncing`, `live`, `backoff` (waiting to reconnect) or `refused` (the last
    /// attempt failed the pin or the handshake; retried with backoff).
    public var state: String
    /// Unix milliseconds of the last completed reconciliation, nil if none yet.
    public var lastSync: Int64?
    /// Envelopes sent on this link and acknowledged by the peer (since the daemon started).
    public var envelopesSent: Int
    /// Envelopes received on this link and committed here (new ones; duplicates are not counted).
    public var envelopesReceived: Int
    /// True for a link the peer opened to us.
    public var incoming: Bool

    public init(
        address: String, id: String, state: String, lastSync: Int64? = nil, envelopesSent: Int = 0,
        envelopesReceived: Int = 0, incoming: Bool = false
    ) {
        self.address = address
        self.id = id
        self.state = state
        self.lastSync = lastSync
        self.envelopesSent = envelopesSent
        self.envelopesReceived = envelopesReceived
        self.incoming = incoming
    }
}

/// What the runtime asks of the node it carries envelopes for. `NodeShell` conforms; tests may use another.
public protocol RelayNodePort: Sendable {
    /// `(expires_at, id)` of every unexpired envelope held, sorted or not: the set a link reconciles.
    func relayRecords() async -> [NegentropyRecord]
    /// The stored envelopes among `ids` (missing ones left out).
    func relayEnvelopes(_ ids: [EnvelopeID]) async -> [StoredEnvelope]
    /// An envelope from link `link`: validate it exactly as one from the LAN; if new, commit it, gossip it on
    /// the LAN and push it to the other links. `settled` is called once it is durable (`true`) or refused for
    /// good (`false`: invalid; a duplicate counts as durable once the original is committed), never before.
    func relayReceive(_ bytes: [UInt8], link: Int, settled: @escaping @Sendable (RelaySettlement) -> Void) async
}

/// How the node settled an envelope that came from a link.
public enum RelaySettlement: Sendable, Hashable {
    /// Committed to the store (new), or already there: the link may acknowledge it.
    case committed(new: Bool)
    /// Refused by validation (the reason as counted); acknowledged too, it will never be stored.
    case refused(String)
    /// The store failed: the link closes without acknowledging it, so the peer sends it again later.
    case storeFailed
}
