import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List message requests: direct messages from strangers, kept apart.",
            discussion: """
                With `accept_from = "contacts"` in the [messages] section of the config, direct messages from \
                senders who are not contacts wait here instead of the inbox, without a notification; the sender is \
                never told. Adding the sender as a contact moves them to the inbox.
                """)

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.inboxList, InboxListParams(requests: true), as: InboxList.self)
                try options.output(reply) { list in
                    list.messages.isEmpty ? "No requests." : list.messages.map { render($0) }.joined(separator: "\n\n")
                }
            }
        }
    }
}
