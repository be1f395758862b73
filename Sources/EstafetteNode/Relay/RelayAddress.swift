/// `host:port` of a relay as an operator writes it: `relay.example.org:4546`, `192.0.2.7:4546` or
/// `[2001:db8::7]:4546`.
struct RelayAddress: Sendable, Hashable, CustomStringConvertible {
    let host: String
    let port: Int

    /// Nil when there is no port, the port is not 1…65535, or the host is empty.
    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
