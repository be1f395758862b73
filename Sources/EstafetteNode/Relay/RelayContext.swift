import EstafetteCore
import NIOConcurrencyHelpers

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
    private let runtimeBox = NIOLockedValueBox<RelayRuntime?>(nil)

    public init(linkKey: NoiseKeyPair, config: NodeConfig, store: Store) throws {
        self.linkKey = linkKey
        self.settings = config.relay
        self.configRelays = config.relays
        self.store = store
        self.dataDir = config.dataDir
        self.quota = RelayQuota(store: store, policy: RelayQuotaPolicy(maxBytes: config.relay.maxBytes))
        try refreshPolicy()
    }

    /// The link runtime to ask for statuses and to tell about changes (nil: no links run, every relay idle).
    public func attach(_ runtime: RelayRuntime?) {
        runtimeBox.withLockedValue { $0 = runtime }
    }

    var runtime: RelayRuntime? { runtimeBox.withLockedValue { $0 } }

    /// The outgoing links the runtime should keep: every relay listed, pinned to its ID.
    public func linkConfigs() throws -> [RelayLinkConfig] {
        try relays().map { RelayLinkConfig(address: $0.endpoint.address.description, pinnedID: $0.endpoint.id.key) }
    }

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
    func relaysChanged() throws {
        try refreshPolicy()
        runtime?.setLinks(try linkConfigs())
    }
}
