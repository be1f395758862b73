import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Alert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Post a signed public alert to the whole mesh.",
            discussion: "Prints the message ID.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The alert's text.")
        var text: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.alertsPost, AlertsPostParams(text: text), as: MessageSent.self)
                try options.output(reply) { $0.message_id }
            }
        }
    }
}
