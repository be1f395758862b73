import EstafetteAPI

/// Renders a node's status in the Prometheus text exposition format (version 0.0.4).
///
/// Names follow Prometheus conventions: the `estafette_` prefix, `_total` on counters, base units (seconds,
/// bytes). Every core counter `x` becomes `estafette_x_total`; the `drop.<reason>` counters become one family,
/// `estafette_drops_total{reason="<reason>"}`.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ status: NodeStatus) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
        }
        family(
            "estafette_build_info", "gauge", "Version of the running daemon (always 1).",
            [("{version=\"\(labelValue(status.version))\"}", "1")])
        family("estafette_uptime_seconds", "gauge", "Seconds since the daemon started.", [("", "\(status.uptime_s)")])
        family("estafette_peers", "gauge", "Peers heard on the LAN recently.", [("", "\(status.peers)")])
        family(
            "estafette_envelopes_stored", "gauge", "Envelopes held in the store.", [("", "\(status.envelopes)")])

        var drops: [(String, Int64)] = []
        var others: [(String, Int64)] = []
        for (key, value) in status.counters {
            if key.hasPrefix("drop.") {
                drops.append((String(key.dropFirst(5)), value))
            } else {
                others.append((key, value))
            }
        }
        family(
            "estafette_drops_total", "counter", "Packets, fragments and envelopes dropped, by reason.",
            drops.sorted { $0.0 < $1.0 }.map { ("{reason=\"\(labelValue($0.0))\"}", "\($0.1)") })
        for (key, value) in others.sorted(by: { $0.0 < $1.0 }) {
            let name = "estafette_\(metricName(key))_total"
            family(name, "counter", "Daemon counter \(metricName(key)).", [("", "\(value)")])
        }
        return out
    }

    /// A metric name part: `[a-zA-Z0-9_]`, anything else becomes `_`.
    static func metricName(_ s: String) -> String {
        String(
            s.unicodeScalars.map { c -> Character in
                switch c {
                case "a"..."z", "A"..."Z", "0"..."9", "_": return Character(c)
                default: return "_"
                }
            })
    }

    /// A label value with `\`, `"` and newlines escaped, as the format requires.
    static func labelValue(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
