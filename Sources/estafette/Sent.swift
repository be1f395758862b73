import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Sent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the direct messages you sent and whether they were delivered.",
            discussion: """
                "delivered" means the recipient's node put the message in their inbox and sent back a delivery \
                receipt; "sent" means no receipt came yet (their node has not received it, or does not send \
                receipts, or holds it among message requests).
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("At most this many messages (1-1000; the daemon's default is 100).", valueName: "n"))
        var limit: Int?

        func validate() throws {
            if let limit, !(1...1000).contains(limit) {
                throw ValidationError("--limit must be between 1 and 1000.")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.messagesSent, MessagesSentParams(limit: limit), as: SentList.self)
                try options.output(reply) { Self.describe($0) }
            }
        }

        /// One line per message: when it was sent, to whom, and its status (with when it was delivered).
        static func describe(_ list: SentList, time: (Int64) -> String = localTime) -> String {
            if list.messages.isEmpty { return "No sent messages." }
            let rows = list.messages.map { m -> [String] in
                let to = m.to_name.map(sanitized) ?? senderID(sanitized(m.to))
                let status =
                    m.status == DeliveryStatus.delivered
                    ? "delivered" + (m.delivered_at.map { " " + time($0) } ?? "") : sanitized(m.status)
                return [time(m.sent_at), to, status]
            }
            return table(rows).joined(separator: "\n")
        }
    }
}
