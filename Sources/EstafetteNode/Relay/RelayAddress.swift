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

/// Reconnection delays: doubling from `initial` up to `max`, each multiplied by a random factor in
/// [0.5, 1.5) so that links cut at once do not all come back at once.
struct RelayBackoff: Sendable {
    let initialMillis: Int64
    let maxMillis: Int64
    private(set) var attempt = 0

    init(initialMillis: Int64, maxMillis: Int64) {
        self.initialMillis = max(1, initialMillis)
        self.maxMillis = max(self.initialMillis, maxMillis)
    }

    /// The next delay, in milliseconds; `random` is in [0, 1).
    mutating func next(random: Double) -> Int64 {
        let shift = min(attempt, 30)
        attempt += 1
        let base = min(maxMillis, initialMillis << Int64(shift))
        return Int64(Double(base) * (0.5 + random))
    }

    /// After a link that worked: start again from `initial`.
    mutating func reset() { attempt = 0 }
}
