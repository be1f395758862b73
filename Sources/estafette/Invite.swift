import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an invite to add you as a contact: one line and a QR code.",
            discussion: """
                The other person scans the QR code (or copies the line) and runs \
                `estafette contacts add NAME 'estafette:invite?…'`. Then compare safety numbers: \
                `estafette contacts safety-number NAME`. The invite holds your ID, the name you give with \
                --name, and any relay hints; it is not secret, but whoever passes it on could swap it, which \
                the safety number reveals.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("The name to suggest to the other person (1-64 characters).", valueName: "name"))
        var name: String

        @Option(help: ArgumentHelp("A relay hint to include, host:port (repeatable, at most 4).", valueName: "address"))
        var relay: [String] = []

        @Flag(help: "Draw the QR code for a terminal with a light background (dark text on white).")
        var lightBackground = false

        @Flag(name: .customLong("no-qr"), help: "Print only the invite line, no QR code.")
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
