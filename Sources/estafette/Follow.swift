import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Follow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("follow.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("follow.id")))
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.alertsFollow, AlertsFollowParams(id: id), as: OK.self)
                try options.output(reply) { _ in tr("follow.done", sanitized(id)) }
            }
        }
    }
}
