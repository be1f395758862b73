import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("requests.abstract"), discussion: tr("requests.discussion"))

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.inboxList, InboxListParams(requests: true), as: InboxList.self)
                try options.output(reply) { list in
                    list.messages.isEmpty
                        ? tr("requests.none") : list.messages.map { render($0) }.joined(separator: "\n\n")
                }
            }
        }
    }
}
