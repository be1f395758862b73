import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("invite.abstract"), discussion: tr("invite.discussion"))

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp(tr("invite.name"), valueName: "name"))
        var name: String

        @Option(help: ArgumentHelp(tr("invite.relay"), valueName: "address"))
        var relay: [String] = []

        @Flag(help: ArgumentHelp(tr("invite.light")))
        var lightBackground = false

        @Flag(name: .customLong("no-qr"), help: ArgumentHelp(tr("invite.noQR")))
        var noQR = false

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.identityInvite, IdentityInviteParams(name: name, relays: relay.isEmpty ? nil : relay),
                    as: InviteInfo.self)
                if options.json {
                    try options.output(reply) { _ in "" }
                    return
                }
                writeOut(try Self.describe(reply.value, qr: !noQR, darkBackground: !lightBackground))
            }
        }

        static func describe(_ info: InviteInfo, qr: Bool, darkBackground: Bool) throws -> String {
            var lines = [sanitized(info.invite)]
            if qr {
                lines.append("")
                lines += try QRCode(encoding: info.invite).terminalLines(darkBackground: darkBackground)
            }
            return lines.joined(separator: "\n")
        }
    }
}
