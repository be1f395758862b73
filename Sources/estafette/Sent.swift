import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Sent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("sent.abstract"), discussion: tr("sent.discussion"))

        @OptionGroup var options: GlobalOptions

        @OptionGroup var listing: ListLimit

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.messagesSent, MessagesSentParams(limit: listing.limit), as: SentList.self)
                let now = nowSeconds()
                try options.output(reply) { Self.describe($0, now: now) }
            }
        }

        /// One row per message: when it was sent, to whom, and its status (with when it was delivered).
        static func describe(_ list: SentList, now: Int64) -> String {
            if list.messages.isEmpty { return tr("sent.none") }
            let rows = list.messages.map { m -> [String] in
                let to = m.to_name.map(sanitized) ?? senderID(sanitized(m.to))
                let status: String
                switch m.status {
                case DeliveryStatus.delivered:
                    status = tr("sent.status.delivered", m.delivered_at.map { relativeTime($0, now: now) } ?? "")
                case DeliveryStatus.sent: status = tr("sent.status.sent")
                default: status = sanitized(m.status)
                }
                return [relativeTime(m.sent_at, now: now), to, status]
            }
            return table(rows, header: [tr("sent.col.sent"), tr("sent.col.to"), tr("sent.col.status")])
                .joined(separator: "\n")
        }
    }
}
