import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Inbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List received messages and alerts, newest first.")

        @OptionGroup var options: GlobalOptions

        @Flag(help: "Only unread messages.")
        var unread = false

        @Option(help: ArgumentHelp("At most this many messages (1-1000; the daemon's default is 100).", valueName: "n"))
        var limit: Int?

        func validate() throws {
            if let limit, !(1...1000).contains(limit) {
                throw ValidationError("--limit must be between 1 and 1000.")
            }
        }

        func run() async throws {
            try await reportingErrors {
                let params = InboxListParams(limit: limit, unread: unread)
                let reply = try await options.client.fetch(RPC.Method.inboxList, params, as: InboxList.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ list: InboxList) -> String {
            if list.messages.isEmpty { return "No messages." }
            return list.messages.map { render($0) }.joined(separator: "\n\n")
        }
    }
}
