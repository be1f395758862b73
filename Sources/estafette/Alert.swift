import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Alert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("alert.abstract"), discussion: tr("alert.discussion"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("alert.text")))
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
