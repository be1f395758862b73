import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Follow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow the alerts of an ID.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The ID whose alerts to follow.")
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.alertsFollow, AlertsFollowParams(id: id), as: OK.self)
                try options.output(reply) { _ in "Following \(sanitized(id))." }
            }
        }
    }
}
