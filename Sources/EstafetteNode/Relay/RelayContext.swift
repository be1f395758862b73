import EstafetteCore
import NIOConcurrencyHelpers

/// One link's state as `relays.list` shows it.
public struct RelayLinkStatus: Sendable, Equatable {
    /// "idle" (not linked yet), "connecting", "handshake", "syncing", "live", "backoff", "refused" …, as the
    /// link runtime names its states.
    public var state: String
    /// Unix seconds of the last completed reconciliation; nil before the first.
    public var lastSync: Int64?
    public var envelopesSent: Int64
    public var envelopesReceived: Int64

    public init(state: String, lastSync: Int64? = nil, envelopesSent: Int64 = 0, envelopesReceived: Int64 = 0) {
        self.state = state
        self.lastSync = lastSync
        self.envelopesSent = envelopesSent
        self.envelopesReceived = envelopesReceived
    }

    public static let idle = RelayLinkStatus(state: "idle")
}

/// What the API needs from the relay link runtime: the state of each link, and word when the list of relays
/// to link to changes (`relays.add`, `relays.remove`).
public protocol RelayLinkControl: Sendable {
    /// The status of the link to each relay, by `HostPort.description`; relays missing here show as idle.
    func linkStatuses() async -> [String: RelayLinkStatus]
    /// Links currently up (inbound and outbound), for `node.status`.
    func linkCount() async -> Int
    /// The relays to link to are now these (the config file's, then those added at run time).
    func relaysChanged(_ relays: [RelayEndpoint]) async
}

/// No link runtime: every relay idle, no link.
public struct NoRelayLinks: RelayLinkControl {
    public init() {}
    public func linkStatuses() async -> [String: RelayLinkStatus] { [:] }
    public func linkCount() async -> Int { 0 }
    public func relaysChanged(_ relays: [RelayEndpoint]) async {}
}

/// The relay side of a node as the API sees it: the link key, the relays to link to (config and run time),
/// the quota, and the link runtime once attached.
public final class RelayContext: Sendable {
    public let linkKey: NoiseKeyPair
    public let settings: RelaySettings
    public let configRelays: [RelayEndpoint]
    public let store: Store
    public let quota: RelayQuota
    /// The data directory (the API refuses to write bundles into it).
    public let dataDir: String
    private let control = NIOLockedValueBox<any RelayLinkControl>(NoRelayLinks())

    public init(linkKey: NoiseKeyPair, config: NodeConfig, store: Store) throws {
        self.linkKey = linkKey
        self.settings = config.relay
        self.configRelays = config.relays
        self.store = store
        self.dataDir = config.dataDir
        self.quota = RelayQuota(store: store, policy: RelayQuotaPolicy(maxBytes: config.relay.maxBytes))
        try refreshPolicy()
    }

    /// The link runtime to ask for statuses and to tell about changes.
    public func attach(_ links: any RelayLinkControl) {
        control.withLockedValue { $0 = links }
    }

    var links: any RelayLinkControl { control.withLockedValue { $0 } }

    /// Every relay to link to: the config file's, then those added at run time (an address in both counts once,
    /// as the config file has it). Stored rows that no longer parse are skipped.
    public func relays() throws -> [(endpoint: RelayEndpoint, fromConfig: Bool)] {
        var out = configRelays.map { (endpoint: $0, fromConfig: true) }
        for r in try store.relays() {
            guard let a = HostPort(r.address), let id = try? PublicID(parsing: r.id) else { continue }
            guard !out.contains(where: { $0.endpoint.address == a }) else { continue }
            out.append((RelayEndpoint(address: a, id: id), false))
        }
        return out
    }

    /// Recomputes the quota's known keys (after the relay list changed).
    func refreshPolicy() throws {
        var p = quota.policy
        p.allowLinkKeys = Set(settings.allowLinkKeys)
        p.pinnedKeys = Set(try relays().compactMap { try? $0.endpoint.id.key.boxPublicKey().bytes })
        quota.policy = p
    }

    /// Tells the link runtime the current list, after a change.
    func relaysChanged() async throws {
        try refreshPolicy()
        await links.relaysChanged(try relays().map(\.endpoint))
    }
}
