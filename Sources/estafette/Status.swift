import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the daemon's ID, version, peers, stored envelopes, uptime and counters.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                try options.output(try await Self.fetch(options.client), human: Self.describe)
            }
        }

        static func fetch(_ client: RPCClient) async throws -> Reply<NodeStatus> {
            try await client.fetch(RPC.Method.nodeStatus, Empty(), as: NodeStatus.self)
        }

        static func describe(_ status: NodeStatus) -> String {
            var lines = table([
                ["ID:", sanitized(status.id)],
                ["Version:", sanitized(status.version)],
                ["Peers:", String(status.peers)],
                ["Envelopes:", String(status.envelopes)],
                ["Uptime:", duration(status.uptime_s)],
            ])
            if let r = status.relay { lines.append(relayLine(r)) }
            if status.counters.isEmpty {
                lines.append("Counters:   none")
            } else {
                lines.append("Counters:")
                let rows = status.counters.sorted { $0.key < $1.key }.map { [sanitized($0.key), String($0.value)] }
                lines += table(rows).map { "  " + $0 }
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// One line on the relay store: `Relay: off, 120 envelopes, 40960 of 1073741824 bytes, 0 evicted, 2 links`.
func relayLine(_ r: RelayStatus) -> String {
    "Relay:      \(r.enabled ? "on" : "off"), \(r.envelopes) envelopes, \(r.bytes) of \(r.quota) bytes, "
        + "\(r.evictions) evicted, \(r.links) link\(r.links == 1 ? "" : "s")"
}
