import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Inbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("inbox.abstract"))

        @OptionGroup var options: GlobalOptions

        @Flag(help: ArgumentHelp(tr("inbox.unreadFlag")))
        var unread = false

        @OptionGroup var listing: ListLimit

        func run() async throws {
            try await reportingErrors {
                let params = InboxListParams(limit: listing.limit, unread: unread)
                let reply = try await options.client.fetch(RPC.Method.inboxList, params, as: InboxList.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ list: InboxList) -> String {
            if list.messages.isEmpty { return tr("inbox.none") }
            return list.messages.map { render($0) }.joined(separator: "\n\n")
        }
    }
}
