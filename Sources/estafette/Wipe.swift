import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Wipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("wipe.abstract"), discussion: tr("wipe.discussion"))

        @OptionGroup var options: GlobalOptions

        @Flag(name: .long, help: ArgumentHelp(tr("wipe.yes")))
        var yes = false

        func run() async throws {
            guard yes else {
                writeErr(errorLine(tr("error.wipeNeedsYes")))
                throw ExitCode(64)
            }
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.nodeWipe, NodeWipeParams(confirm: true), as: NodeWiped.self)
                try options.output(reply) { r in
                    tr("wipe.done", String(r.files), String(r.millis))
                }
            }
        }
    }
}
