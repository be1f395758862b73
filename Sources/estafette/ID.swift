import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct ID: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id",
            abstract: tr("id.abstract"))

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.identityShow, Empty(), as: IdentityInfo.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ info: IdentityInfo) -> String {
            var rows = [[tr("id.id"), sanitized(info.id)], [tr("id.fingerprint"), sanitized(info.fingerprint)]]
            if let k = info.link_key { rows.append([tr("id.linkKey"), sanitized(k)]) }
            return table(rows).joined(separator: "\n")
        }
    }
}
