import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("block.abstract"), discussion: tr("block.discussion"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("block.id")))
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsBlock, ContactsBlockParams(id: id), as: OK.self)
                try options.output(reply) { _ in tr("block.done", sanitized(id)) }
            }
        }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("unblock.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("unblock.id")))
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsUnblock, ContactsBlockParams(id: id), as: OK.self)
                try options.output(reply) { _ in tr("unblock.done", sanitized(id)) }
            }
        }
    }
}
