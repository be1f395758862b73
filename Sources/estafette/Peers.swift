import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Peers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("peers.abstract"))

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.peersList, Empty(), as: PeersList.self)
                let now = nowSeconds()
                try options.output(reply) { Self.describe($0, now: now) }
            }
        }

        static func describe(_ list: PeersList, now: Int64) -> String {
            if list.peers.isEmpty { return tr("peers.none") }
            let rows = list.peers.map { peer in
                [sanitized(peer.session), sanitized(peer.address), relativeTime(peer.last_seen, now: now)]
            }
            return table(rows, header: [tr("peers.col.session"), tr("peers.col.address"), tr("peers.col.lastSeen")])
                .joined(separator: "\n")
        }
    }
}
