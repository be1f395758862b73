import EstafetteCore
import TOMLKit

/// A TCP endpoint written `host:port` (`[v6 address]:port` for IPv6), as in `[relay] listen` and
/// `[[relays]] address`.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
            guard host.allSatisfy(allowed), !host.hasPrefix("-"), !host.hasPrefix(".") else { return nil }
        }
        guard !host.isEmpty, host.utf8.count <= 253, !portText.isEmpty, portText.allSatisfy(\.isASCII),
            portText.count <= 5, let port = Int(portText), (1...65535).contains(port)
        else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A relay to link to: where it listens and its identity, which is the pin (the link is refused when the relay's
/// Noise static key is not the X25519 form of this identity).
public struct RelayEndpoint: Sendable, Hashable {
    public let address: HostPort
    public let id: PublicID

    public init(address: HostPort, id: PublicID) {
        self.address = address
        self.id = id
    }
}

/// The relay role (`[relay]`): whether this node accepts links, where, with which quota and from which keys.
public struct RelaySettings: Sendable, Equatable {
    public static let defaultListen = HostPort("0.0.0.0:4546")!
    /// 1 GiB.
    public static let defaultMaxBytes: Int64 = 1 << 30
    public static let maxBytesRange: ClosedRange<Int64> = (1 << 20)...(1 << 40)

    public var enabled = false
    public var listen = RelaySettings.defaultListen
    /// Byte quota for stored envelopes (see `RelayQuotaPolicy`).
    public var maxBytes = RelaySettings.defaultMaxBytes
    /// Link keys (32 bytes each) allowed to link; empty means anyone may.
    public var allowLinkKeys: [[UInt8]] = []

    public init() {}
}

extension NodeConfig {
    static let relaySectionKeys: Set<String> = ["enabled", "listen", "max_bytes", "allow_link_keys"]
    static let relaysTableKeys: Set<String> = ["address", "id"]

    /// Reads `[relay]` and `[[relays]]` into `config`. Every bad value is an error naming its line and key.
    static func loadRelay(
        _ table: TOMLTable, lines: [String], file: String, into config: inout NodeConfig
    ) throws(ConfigError) {
        func fail(_ key: String, _ reason: String) -> ConfigError {
            ConfigError(
                file: file, line: lineOf(section: "relay", key: key, in: lines), key: "relay.\(key)", reason: reason)
        }
        if let section = table["relay"]?.table {
            if let v = section["enabled"] {
                guard let b = v.bool else { throw fail("enabled", "must be true or false, got \(v.type)") }
                config.relay.enabled = b
            }
            if let v = section["listen"] {
                guard let s = v.string else { throw fail("listen", "must be a string \"host:port\", got \(v.type)") }
                guard let hp = HostPort(s) else {
                    throw fail("listen", "'\(s.prefix(80))' is not host:port (e.g. \"0.0.0.0:4546\" or \"[::]:4546\")")
                }
                config.relay.listen = hp
            }
            if let v = section["max_bytes"] {
                guard let i = v.int else { throw fail("max_bytes", "must be an integer (bytes), got \(v.type)") }
                let r = RelaySettings.maxBytesRange
                guard r.contains(Int64(i)) else {
                    throw fail("max_bytes", "\(i) is out of range \(r.lowerBound)…\(r.upperBound) (1 MiB … 1 TiB)")
                }
                config.relay.maxBytes = Int64(i)
            }
            if let v = section["allow_link_keys"] {
                let shape = "must be an array of link keys (64 hex digits each, as identity.show's link_key)"
                guard let arr = v.array else { throw fail("allow_link_keys", shape) }
                var keys: [[UInt8]] = []
                for item in arr {
                    guard let s = item.string else { throw fail("allow_link_keys", shape) }
                    guard s.utf8.count == 64, let k = IdentityFile.hexBytes(s) else {
                        throw fail("allow_link_keys", "'\(s.prefix(80))' is not a link key (64 hex digits)")
                    }
                    if !keys.contains(k) { keys.append(k) }
                }
                config.relay.allowLinkKeys = keys
            }
        }
        guard let v = table["relays"] else { return }
        guard let arr = v.array else {
            throw ConfigError(
                file: file, line: lineOf(section: "", key: "relays", in: lines), key: "relays",
                reason: "must be a list of [[relays]] tables, each with address and id")
        }
        for (n, item) in arr.enumerated() {
            func failAt(_ key: String?, _ reason: String) -> ConfigError {
                ConfigError(
                    file: file, line: lineOfRelay(n, key: key, in: lines),
                    key: key.map { "relays[\(n)].\($0)" }
                        ?? "relays[\(n)]", reason: reason)
            }
            guard let t = item.table else { throw failAt(nil, "must be a table with address and id") }
            for k in t.keys where !relaysTableKeys.contains(k) {
                throw failAt(k, "unknown key (known keys: address, id)")
            }
            guard let av = t["address"] else { throw failAt(nil, "missing address = \"host:port\"") }
            guard let a = av.string, let address = HostPort(a) else {
                throw failAt("address", "'\(av.string.map { String($0.prefix(80)) } ?? "\(av.type)")' is not host:port")
            }
            guard let iv = t["id"] else { throw failAt(nil, "missing id = \"es1…\" (the relay's identity, its pin)") }
            guard let s = iv.string else { throw failAt("id", "must be a string \"es1…\", got \(iv.type)") }
            let id: PublicID
            do {
                id = try PublicID(parsing: s)
            } catch {
                throw failAt("id", error.description)
            }
            guard !config.relays.contains(where: { $0.address == address }) else {
                throw failAt("address", "\(address) is listed twice")
            }
            config.relays.append(RelayEndpoint(address: address, id: id))
        }
    }

    /// The line of `key` in the `n`-th `[[relays]]` table (of its header when key is nil).
    static func lineOfRelay(_ n: Int, key: String?, in lines: [String]) -> Int? {
        var seen = -1
        var inside = false
        for (i, raw) in lines.enumerated() {
            let line = raw.trimmingWhitespace()
            if line.hasPrefix("[") {
                inside = line.hasPrefix("[[") && line.dropFirst(2).prefix { $0 != "]" }.trimmingWhitespace() == "relays"
                if inside {
                    seen += 1
                    if seen == n, key == nil { return i + 1 }
                }
                continue
            }
            if let key, inside, seen == n, line.hasPrefix(key),
                line.dropFirst(key.count).trimmingWhitespace().hasPrefix("=")
            {
                return i + 1
            }
        }
        return nil
    }
}
