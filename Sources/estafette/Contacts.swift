import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage contacts: local names for IDs.",
            subcommands: [Add.self, List.self, Remove.self])
    }
}

extension Estafette.Contacts {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a contact.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "A local name for the contact.")
        var name: String

        @Argument(help: "The contact's ID, as shown by their `estafette id`.")
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsAdd, ContactsAddParams(name: name, id: id), as: OK.self)
                try options.output(reply) { _ in "Added contact \(sanitized(name))." }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List contacts.", aliases: ["ls"])

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.contactsList, Empty(), as: ContactsList.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ list: ContactsList) -> String {
            if list.contacts.isEmpty { return "No contacts." }
            return table(list.contacts.map { [sanitized($0.name), sanitized($0.id)] }).joined(separator: "\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a contact.", aliases: ["remove"])

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The contact's name.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsRemove, ContactsRemoveParams(name: name), as: OK.self)
                guard reply.value.ok else { throw CLIError("estafetted did not remove contact '\(name)'") }
                try options.output(reply) { _ in "Removed contact \(sanitized(name))." }
            }
        }
    }
}
