import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct ID: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id",
            abstract: "Show this node's ID (to give to contacts) and its fingerprint (to compare in person).")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.identityShow, Empty(), as: IdentityInfo.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ info: IdentityInfo) -> String {
            var rows = [["ID:", sanitized(info.id)], ["Fingerprint:", sanitized(info.fingerprint)]]
            if let k = info.link_key { rows.append(["Link key:", sanitized(k)]) }
            return table(rows).joined(separator: "\n")
        }
    }
}
