import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hide everything from an ID: messages, channel posts and alerts.",
            discussion: "The node still carries that ID's envelopes for others; the sender is never told.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The ID to block.")
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsBlock, ContactsBlockParams(id: id), as: OK.self)
                try options.output(reply) { _ in "Blocked \(sanitized(id))." }
            }
        }
    }

    struct Unblock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show messages from a blocked ID again.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The ID to unblock.")
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsUnblock, ContactsBlockParams(id: id), as: OK.self)
                try options.output(reply) { _ in "Unblocked \(sanitized(id))." }
            }
        }
    }
}
