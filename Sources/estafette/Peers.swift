import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Peers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the peers the daemon currently knows.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.peersList, Empty(), as: PeersList.self)
                let now = nowSeconds()
                try options.output(reply) { Self.describe($0, now: now) }
            }
        }

        static func describe(_ list: PeersList, now: Int64) -> String {
            if list.peers.isEmpty { return "No peers." }
            let rows = list.peers.map { peer in
                [sanitized(peer.session), sanitized(peer.address), "last seen \(max(0, now - peer.last_seen))s ago"]
            }
            return table(rows).joined(separator: "\n")
        }
    }
}
