/// Where the Prometheus endpoint listens: `metrics.listen` in the configuration.
///
/// Accepted forms: `"9464"` (loopback, 127.0.0.1), `"host:port"`, `"[ipv6]:port"`. Loopback is the default
/// on purpose: the endpoint has no authentication, so exposing it is an explicit choice (`"0.0.0.0:9464"`).
public struct MetricsListen: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses a `metrics.listen` value; nil when it is not one of the accepted forms.
    public init?(parsing text: String) {
        guard !text.isEmpty, text.utf8.count <= 300 else { return nil }
        var host = "127.0.0.1"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            guard !host.isEmpty, !host.contains(":") else { return nil }
        }
        guard let port = Int(portText), (1...65535).contains(port), !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
