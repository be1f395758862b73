import EstafetteAPI
import EstafetteCore
import TOMLKit

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's settings. Every key is documented, with its default, in `Config/estafette.toml`.
public struct NodeConfig: Sendable, Equatable {
    public var dataDir: String
    public var socketPath: String
    public var lanGroup: String = "239.192.45.45"
    public var lanPort: Int = 4545
    /// Interface names; empty means every multicast-capable LAN interface with an IPv4 or IPv6 link-local address.
    public var lanInterfaces: [String] = []
    /// Private mesh passphrase; nil means the public default mesh key.
    public var meshPassphrase: String? = nil
    /// The private mesh's name, which salts its key (required with a passphrase).
    public var meshName: String? = nil
    /// Trickle's minimum beacon interval; the maximum is 16 times as long.
    public var beaconIntervalMillis: Int64 = MeshNode.Settings.defaultBeaconIntervalMillis
    /// Least time between two repair rounds (see docs/protocol.md, "Repair rounds").
    public var repairIntervalMillis: Int64 = MeshNode.Settings.defaultRepairIntervalMillis
    /// Most LAN peers tracked (`lan.max_peers`).
    public var maxPeers: Int = MeshNode.Settings.defaultMaxPeers
    /// Static peers (`lan.peers`): `ip:port` of nodes every datagram also goes to by unicast, for networks that
    /// filter multicast or peers on another subnet. Their datagrams are taken from any interface.
    public var lanPeers: [String] = []
    /// Subnet broadcast beside multicast (`lan.broadcast`).
    public var lanBroadcast: LANBroadcast = .auto
    /// IPv6 link-local multicast beside IPv4 (`lan.ipv6`).
    public var lanIPv6: LANIPv6 = .auto
    /// Lifetime given to messages this node sends, in seconds (at most 7 days).
    public var messageLifetimeSeconds: UInt64 = 7 * 24 * 3600
    /// `messages.accept_from = "contacts"`: direct messages from senders who are not contacts wait among the
    /// requests (`inbox.list {"requests": true}`) instead of the inbox, and are not notified.
    public var requestsFromStrangers = false
    /// `messages.receipts`: whether direct messages that reach the inbox are acknowledged with a delivery receipt
    /// to their sender (docs/protocol.md, "Delivery receipt").
    public var receipts = true
    public var logLevel: String = "info"
    /// API connections served at once; more are answered with an error and closed.
    public var apiMaxConnections: Int = 64
    // Bounded storage (issue 9; docs/security-data.md).
    /// Most bytes of envelopes the store holds; beyond it the envelopes the user cares least about are evicted.
    public var storeMaxBytes: Int64 = 256 * 1024 * 1024
    /// Most messages the inbox keeps (the oldest go first, alerts from authors not followed before the rest).
    public var inboxMaxMessages: Int = 10_000
    /// Messages older than this many days leave the inbox; nil: no age limit.
    public var inboxRetentionDays: Int? = nil
    /// The relay role (`[relay]`, docs/relays.md).
    public var relay = RelaySettings()
    /// Relays to link to (`[[relays]]`); more are added at run time with `relays.add`.
    public var relays: [RelayEndpoint] = []
    /// Where the Prometheus endpoint listens (`metrics.listen`); nil (the default) means no endpoint.
    public var metricsListen: MetricsListen? = nil

    public init(dataDir: String? = nil, socketPath: String? = nil) {
        let dir = dataDir ?? DefaultPaths.dataDir
        self.dataDir = dir
        self.socketPath = socketPath ?? DefaultPaths.socketPath(dataDir: dir)
    }
}

extension NodeConfig {
    /// The protocol settings this configuration gives the node: the core derives everything else (the peer
    /// timeout, …) from the two intervals, as it does for the simulator.
    public var meshSettings: MeshNode.Settings {
        var s = MeshNode.Settings(
            beaconIntervalMillis: beaconIntervalMillis, repairIntervalMillis: repairIntervalMillis)
        s.maxPeers = maxPeers
        s.sendsReceipts = receipts
        return s
    }
}

extension NodeConfig: CustomStringConvertible {
    /// Never prints the mesh passphrase.
    public var description: String {
        "NodeConfig(data_dir: \(dataDir), socket: \(socketPath), lan: \(lanGroup):\(lanPort) \(lanInterfaces), "
            + "mesh: \(meshPassphrase == nil ? "public" : "private '\(meshName ?? "")' (redacted)"))"
    }
}

/// A configuration problem, reported with the file, line (when known), key and reason.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let key: String?
    public let reason: String

    public init(file: String, line: Int?, key: String?, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "\(key): " }
        return s + reason
    }
}

extension NodeConfig {
    static let knownKeys: [String: Set<String>] = [
        "": ["data_dir", "log_level"],
        "api": ["socket", "max_connections"],
        "lan": [
            "group", "port", "interfaces", "mesh_name", "mesh_passphrase", "beacon_interval_ms", "repair_interval_ms",
            "max_peers", "peers", "broadcast", "ipv6",
        ],
        "messages": ["lifetime_hours", "accept_from", "receipts"],
        "store": ["max_bytes"],
        "inbox": ["max_messages", "retention_days"],
        "relay": relaySectionKeys,
        "metrics": ["listen"],
    ]

    /// Loads a TOML file. Command-line overrides are applied by the caller afterwards.
    public static func load(file: String, text: String) throws(ConfigError) -> NodeConfig {
        if let problem = TOMLSubset.check(text) {
            throw ConfigError(file: file, line: problem.line, key: nil, reason: "TOML syntax error: \(problem.reason)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(
                file: file, line: e.source.begin.line, key: nil, reason: "TOML syntax error: \(e.description)")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, reason: "cannot parse: \(error)")
        }
        // "\r\n" is one Character: split on it too, or a file with CRLF line ends is one long line.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.map(String.init)
        func fail(_ section: String, _ key: String?, _ reason: String) -> ConfigError {
            let dotted =
                key.map { section.isEmpty ? $0 : "\(section).\($0)" } ?? (section.isEmpty ? nil : "[\(section)]")
            return ConfigError(
                file: file, line: lineOf(section: section, key: key, in: lines), key: dotted, reason: reason)
        }

        var config = NodeConfig()
        // Unknown keys are errors: a typo must not silently fall back to a default.
        for key in table.keys {
            if let sub = table[key]?.table {
                guard let known = knownKeys[key] else { throw fail(key, nil, "unknown section [\(key)]") }
                for k in sub.keys where !known.contains(k) {
                    throw fail(key, k, "unknown key (known keys: \(known.sorted().joined(separator: ", ")))")
                }
            } else if key == "relays" {
                continue  // [[relays]], checked by loadRelay
            } else if !(knownKeys[""]!.contains(key)) {
                let sections = knownKeys.keys.filter { !$0.isEmpty }.sorted().map { "[\($0)]" }
                throw fail(
                    "", key,
                    "unknown key (top-level keys: \(knownKeys[""]!.sorted().joined(separator: ", ")); "
                        + "sections: \(sections.joined(separator: ", ")), [[relays]])")
            }
        }

        func string(_ section: String, _ key: String) throws(ConfigError) -> String? {
            let t = section.isEmpty ? table : table[section]?.table
            guard let v = t?[key] else { return nil }
            guard let s = v.string else { throw fail(section, key, "must be a string, got \(v.type)") }
            return s
        }
        func int(_ section: String, _ key: String, _ range: ClosedRange<Int>) throws(ConfigError) -> Int? {
            guard let v = table[section]?.table?[key] else { return nil }
            guard let i = v.int else { throw fail(section, key, "must be an integer, got \(v.type)") }
            guard range.contains(i) else {
                throw fail(section, key, "\(i) is out of range \(range.lowerBound)…\(range.upperBound)")
            }
            return i
        }

        if let d = try string("", "data_dir") {
            guard !d.isEmpty else { throw fail("", "data_dir", "must not be empty") }
            config.dataDir = expandHome(d)
            config.socketPath = DefaultPaths.socketPath(dataDir: config.dataDir)
        }
        if let l = try string("", "log_level") {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(l) else {
                throw fail("", "log_level", "'\(l)' is not one of \(levels.joined(separator: ", "))")
            }
            config.logLevel = l
        }
        if let s = try string("api", "socket") {
            guard !s.isEmpty else { throw fail("api", "socket", "must not be empty") }
            if let problem = socketPathProblem(expandHome(s)) { throw fail("api", "socket", problem) }
            config.socketPath = expandHome(s)
        }
        if let g = try string("lan", "group") {
            guard isIPv4Multicast(g) else {
                throw fail("lan", "group", "'\(g)' is not an IPv4 multicast address (use one in 239.0.0.0/8)")
            }
            config.lanGroup = g
        }
        if let p = try int("lan", "port", 1...65535) { config.lanPort = p }
        if let v = table["lan"]?.table?["interfaces"] {
            guard let arr = v.array else { throw fail("lan", "interfaces", "must be an array of interface names") }
            var names: [String] = []
            for item in arr {
                guard let s = item.string, !s.isEmpty else {
                    throw fail("lan", "interfaces", "must be an array of interface names (strings)")
                }
                names.append(s)
            }
            config.lanInterfaces = names
        }
        if let c = try int("api", "max_connections", 1...1024) { config.apiMaxConnections = c }
        if let n = try string("lan", "mesh_name") {
            guard !n.isEmpty, n.utf8.count <= 64 else { throw fail("lan", "mesh_name", "must be 1 to 64 bytes") }
            config.meshName = n
        }
        if let m = try string("lan", "mesh_passphrase") {
            if let weakness = PassphraseStrength.weakness(m) { throw fail("lan", "mesh_passphrase", weakness) }
            guard config.meshName != nil else {
                throw fail(
                    "lan", "mesh_passphrase",
                    "a private mesh needs a name too: set lan.mesh_name, the same on every node (it salts the key)")
            }
            config.meshPassphrase = m
        } else if config.meshName != nil {
            throw fail("lan", "mesh_name", "names a private mesh, but lan.mesh_passphrase is not set")
        }
        if let b = try int("lan", "beacon_interval_ms", 100...600_000) { config.beaconIntervalMillis = Int64(b) }
        if let r = try int("lan", "repair_interval_ms", 500...60_000) { config.repairIntervalMillis = Int64(r) }
        if let m = try int("lan", "max_peers", 16...4_096) { config.maxPeers = m }
        if let v = table["lan"]?.table?["peers"] {
            let what = "must be an array of \"ip:port\" strings, e.g. [\"192.168.1.20:4545\"]"
            guard let arr = v.array else { throw fail("lan", "peers", what) }
            guard arr.count <= LANBroadcast.maxStaticPeers else {
                throw fail("lan", "peers", "at most \(LANBroadcast.maxStaticPeers) static peers")
            }
            var peers: [String] = []
            for item in arr {
                guard let text = item.string else { throw fail("lan", "peers", what) }
                guard let peer = staticPeer(text) else {
                    throw fail(
                        "lan", "peers",
                        "'\(text)' is not an IPv4 address and port, e.g. \"192.168.1.20:4545\" (host names are not "
                            + "looked up: there may be no DNS during a shutdown)")
                }
                if !peers.contains(peer) { peers.append(peer) }
            }
            config.lanPeers = peers
        }
        if let b = try string("lan", "broadcast") {
            guard let mode = LANBroadcast(rawValue: b) else {
                throw fail("lan", "broadcast", "must be \"auto\", \"on\" or \"off\"")
            }
            config.lanBroadcast = mode
        }
        if let v = try string("lan", "ipv6") {
            guard let mode = LANIPv6(rawValue: v) else {
                throw fail("lan", "ipv6", "must be \"auto\", \"on\" or \"off\"")
            }
            config.lanIPv6 = mode
        }
        if let h = try int("messages", "lifetime_hours", 1...168) { config.messageLifetimeSeconds = UInt64(h) * 3600 }
        if let a = try string("messages", "accept_from") {
            switch a {
            case "anyone": config.requestsFromStrangers = false
            case "contacts": config.requestsFromStrangers = true
            default: throw fail("messages", "accept_from", "must be \"anyone\" or \"contacts\"")
            }
        }
        if let v = table["messages"]?.table?["receipts"] {
            guard let b = v.bool else { throw fail("messages", "receipts", "must be true or false, got \(v.type)") }
            config.receipts = b
        }
        // Bounded storage (issue 9).
        if let b = try int("store", "max_bytes", (1 << 20)...(1 << 40)) { config.storeMaxBytes = Int64(b) }
        if let n = try int("inbox", "max_messages", 100...10_000_000) { config.inboxMaxMessages = n }
        if let d = try int("inbox", "retention_days", 1...36_500) { config.inboxRetentionDays = d }
        try loadRelay(table, lines: lines, file: file, into: &config)
        if let m = try string("metrics", "listen") {
            guard let listen = MetricsListen(parsing: m) else {
                throw fail("metrics", "listen", "'\(m)' is not a port, host:port or [ipv6]:port")
            }
            config.metricsListen = listen
        }
        return config
    }

    /// The line of `key` in `[section]` (or of the section header when key is nil).
    static func lineOf(section: String, key: String?, in lines: [String]) -> Int? {
        var current = ""
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingWhitespace()
            if line.hasPrefix("[") {
                current = String(line.dropFirst().prefix { $0 != "]" }).trimmingWhitespace()
                if key == nil, current == section { return i + 1 }
                continue
            }
            if let key, current == section, line.hasPrefix(key) {
                let rest = line.dropFirst(key.count).trimmingWhitespace()
                if rest.hasPrefix("=") { return i + 1 }
            }
        }
        return nil
    }

    /// Why a Unix socket path cannot be used, or nil.
    public static func socketPathProblem(_ path: String) -> String? {
        path.utf8.count > 107 ? "path is \(path.utf8.count) bytes; a Unix socket path holds at most 107" : nil
    }

    static func isIPv4Multicast(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        let nums = parts.compactMap { UInt8($0) }
        guard nums.count == 4 else { return false }
        return (224...239).contains(nums[0])
    }

    static func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return DefaultPaths.home + path.dropFirst(1)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}

/// When a node also sends its datagrams to the subnet's broadcast address (`lan.broadcast`; docs/decisions.md):
/// many access points filter multicast, and broadcast often passes where multicast does not.
public enum LANBroadcast: String, Sendable, Equatable {
    /// On an interface where no peer has been heard by multicast for a while (alone, or multicast is filtered),
    /// or where some peer is heard only by broadcast.
    case auto
    /// Always, beside multicast.
    case on
    /// Never.
    case off

    /// Most entries in `lan.peers`.
    public static let maxStaticPeers = 32
}

/// IPv6 link-local multicast (group `ff02::4545` on each interface with a link-local address) beside IPv4
/// (`lan.ipv6`; docs/decisions.md, "IPv6 link-local multicast").
public enum LANIPv6: String, Sendable, Equatable {
    /// Join the IPv6 group on every interface; send by IPv6 where the interface has no IPv4 address, or where a
    /// peer is heard by IPv6 only.
    case auto
    /// Send every datagram by both families on dual-stack interfaces (the receiver drops the second copy).
    case on
    /// IPv4 only.
    case off
}

extension NodeConfig {
    /// `a.b.c.d:port` in canonical form, or nil (host names are refused: no DNS is assumed).
    static func staticPeer(_ text: String) -> String? {
        guard let address = RelayAddress(text) else { return nil }
        var a = in_addr()
        guard inet_pton(AF_INET, address.host, &a) == 1 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count)) != nil else { return nil }
        let host = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host):\(address.port)"
    }
}
