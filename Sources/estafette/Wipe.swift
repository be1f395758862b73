import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Wipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Panic wipe: destroy the keys, messages and contacts for good, and stop the daemon.",
            discussion: """
                The data key and the identity key are overwritten and deleted first (crypto-erase), then \
                everything else in the data directory; the daemon then stops with exit status 10. There is \
                no undo. Without --yes nothing is done.
                """)

        @OptionGroup var options: GlobalOptions

        @Flag(name: .long, help: "Really wipe (required).")
        var yes = false

        func run() async throws {
            guard yes else {
                writeErr(
                    "estafette: wipe destroys the keys, the messages and the contacts for good; add --yes to do it")
                throw ExitCode(64)
            }
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.nodeWipe, NodeWipeParams(confirm: true), as: NodeWiped.self)
                try options.output(reply) { r in
                    "Wiped: \(r.files) files destroyed in \(r.millis) ms; the daemon has stopped."
                }
            }
        }
    }
}
