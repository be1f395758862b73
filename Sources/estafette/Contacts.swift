import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage contacts: local names for IDs.",
            discussion: """
                To be sure that "bob" really is Bob, compare safety numbers in person or on a call you trust: \
                `estafette contacts safety-number bob` on your side and `estafette contacts safety-number \
                alice` on Bob's show the same 60 digits. If they match, `estafette contacts verify bob`.
                """,
            subcommands: [Add.self, List.self, Remove.self, SafetyNumberCommand.self, Verify.self])
    }
}

extension Estafette.Contacts {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a contact.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "A local name for the contact.")
        var name: String

        @Argument(help: "The contact's ID (their `estafette id`) or invite (their `estafette invite`).")
        var id: String

        /// An invite line, else an ID.
        var params: ContactsAddParams {
            id.hasPrefix("estafette:") ? ContactsAddParams(name: name, invite: id) : ContactsAddParams(name: name, id: id)
        }

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.contactsAdd, params, as: ContactAdded.self)
                try options.output(reply, human: { Self.describe(name, $0) })
            }
        }

        static func describe(_ name: String, _ added: ContactAdded) -> String {
            var lines = ["Added contact \(sanitized(name))."]
            if let suggested = added.invite_name, suggested != name {
                lines.append("Name in their invite: \(sanitized(suggested))")
            }
            for r in added.relays ?? [] {
                lines.append("Relay hint: \(sanitized(r)) (to use it: estafette relays add \(sanitized(r)) RELAY-ID)")
            }
            lines.append("Compare safety numbers: estafette contacts safety-number \(shellQuoted(sanitized(name)))")
            return lines.joined(separator: "\n")
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
            return table(list.contacts.map { [sanitized($0.name), sanitized($0.id), $0.verified ? "verified" : ""] })
                .map { $0.trimmingTrailingSpaces() }.joined(separator: "\n")
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


extension Estafette.Contacts {
    struct SafetyNumberCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "safety-number",
            abstract: "Show the safety number to compare with a contact.",
            discussion: """
                The contact's node shows the same 60 digits for you. Read them aloud to each other; if they \
                match, run `estafette contacts verify NAME`.
                """)

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The contact's name.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsSafetyNumber, ContactNameParams(name: name), as: SafetyNumberInfo.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ info: SafetyNumberInfo) -> String {
            let groups = info.safety_number.split(separator: " ").map(String.init)
            var lines = ["Safety number with \(sanitized(info.name)):", ""]
            for row in stride(from: 0, to: groups.count, by: 4) {
                lines.append("    " + groups[row..<min(row + 4, groups.count)].joined(separator: "  "))
            }
            lines.append("")
            lines.append(
                info.verified
                    ? "\(sanitized(info.name)) is verified."
                    : "Not verified yet. If \(sanitized(info.name)) sees the same digits: estafette contacts verify "
                        + shellQuoted(sanitized(info.name)))
            return lines.joined(separator: "\n")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a contact verified, after comparing safety numbers.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The contact's name.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsVerify, ContactNameParams(name: name), as: OK.self)
                try options.output(reply) { _ in "Marked \(sanitized(name)) verified." }
            }
        }
    }
}

/// `text` as one shell word.
func shellQuoted(_ text: String) -> String {
    if !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) { return text }
    return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
