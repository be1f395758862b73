#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The relay and sneakernet part of the API contract (docs/api.md: relays.*, store.export, store.import).
extension RPC.Method {
    public static let relaysAdd = "relays.add"
    public static let relaysRemove = "relays.remove"
    public static let relaysList = "relays.list"
    public static let storeExport = "store.export"
    public static let storeImport = "store.import"
}

extension RPC.ErrorCode {
    /// relays.remove: no relay has this address.
    public static let unknownRelay = -32020
    /// relays.add: the address is listed with another ID; relays.remove: it is set in the config file.
    public static let relayConflict = -32021
    /// relays.add: the address is not host:port.
    public static let badAddress = -32022
    /// store.import: the bundle is not one, or is truncated, damaged or tampered with; nothing was imported.
    public static let badBundle = -32030
    /// store.export / store.import: the file cannot be created, written or read.
    public static let fileError = -32031
}

public struct RelaysAddParams: Codable, Sendable {
    /// "host:port".
    public var address: String
    /// The relay's textual ID (`es1…`), its pin.
    public var id: String
    public init(address: String, id: String) {
        self.address = address
        self.id = id
    }
}

public struct RelaysRemoveParams: Codable, Sendable {
    public var address: String
    public init(address: String) { self.address = address }
}

public struct RelayInfo: Codable, Sendable, Equatable {
    public var address: String
    public var id: String
    /// The link's state: "idle" until the link runtime reports one.
    public var state: String
    /// Unix seconds of the last completed sync, or null.
    public var last_sync: Int64?
    public var envelopes_sent: Int64
    public var envelopes_received: Int64
    /// "config" (from the config file, removed by editing it) or "api" (added with relays.add).
    public var source: String

    public init(
        address: String, id: String, state: String, last_sync: Int64?, envelopes_sent: Int64,
        envelopes_received: Int64, source: String
    ) {
        self.address = address
        self.id = id
        self.state = state
        self.last_sync = last_sync
        self.envelopes_sent = envelopes_sent
        self.envelopes_received = envelopes_received
        self.source = source
    }

    /// Encodes `last_sync` as null when absent (the contract lists the field).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(address, forKey: .address)
        try c.encode(id, forKey: .id)
        try c.encode(state, forKey: .state)
        try c.encode(last_sync, forKey: .last_sync)
        try c.encode(envelopes_sent, forKey: .envelopes_sent)
        try c.encode(envelopes_received, forKey: .envelopes_received)
        try c.encode(source, forKey: .source)
    }
}

public struct RelaysList: Codable, Sendable, Equatable {
    public var relays: [RelayInfo]
    public init(relays: [RelayInfo]) { self.relays = relays }
}

/// The `relay` object of `node.status`.
public struct RelayStatus: Codable, Sendable, Equatable {
    /// Whether this node accepts links (`[relay] enabled`).
    public var enabled: Bool
    /// Envelopes stored, all sources.
    public var envelopes: Int64
    /// Their bytes (encoded envelopes).
    public var bytes: Int64
    /// `[relay] max_bytes`.
    public var quota: Int64
    /// Envelopes evicted to make room since start.
    public var evictions: Int64
    /// Envelopes refused since start because their link key held its share.
    public var refused_over_share: Int64
    /// Envelopes refused since start because everything stored expires later.
    public var refused_full: Int64
    /// Links up now.
    public var links: Int
    /// Link keys that hold stored envelopes.
    public var link_keys: Int

    public init(
        enabled: Bool, envelopes: Int64, bytes: Int64, quota: Int64, evictions: Int64, refused_over_share: Int64,
        refused_full: Int64, links: Int, link_keys: Int
    ) {
        self.enabled = enabled
        self.envelopes = envelopes
        self.bytes = bytes
        self.quota = quota
        self.evictions = evictions
        self.refused_over_share = refused_over_share
        self.refused_full = refused_full
        self.links = links
        self.link_keys = link_keys
    }
}

public struct StoreExportParams: Codable, Sendable {
    /// Where to write the bundle (a path on the daemon's host, written by the daemon's user).
    public var path: String
    /// Only envelopes received at or after this time (Unix seconds).
    public var since: Int64?
    public init(path: String, since: Int64? = nil) {
        self.path = path
        self.since = since
    }
}

public struct StoreExported: Codable, Sendable, Equatable {
    public var envelopes: Int
    /// Size of the bundle file.
    public var bytes: Int
    public init(envelopes: Int, bytes: Int) {
        self.envelopes = envelopes
        self.bytes = bytes
    }
}

public struct StoreImportParams: Codable, Sendable {
    public var path: String
    public init(path: String) { self.path = path }
}

public struct StoreImported: Codable, Sendable, Equatable {
    /// New envelopes stored.
    public var imported: Int
    /// Envelopes already held.
    public var duplicates: Int
    /// Envelopes refused by validation (expired, malformed, bad signature …).
    public var refused: Int
    public init(imported: Int, duplicates: Int, refused: Int) {
        self.imported = imported
        self.duplicates = duplicates
        self.refused = refused
    }
}
