import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("contacts.abstract"), discussion: tr("contacts.discussion"),
            subcommands: [Add.self, List.self, Remove.self, SafetyNumberCommand.self, Verify.self])
    }
}

extension Estafette.Contacts {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("contacts.add.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("contacts.add.name")))
        var name: String

        @Argument(help: ArgumentHelp(tr("contacts.add.id")))
        var id: String

        /// An invite line, else an ID.
        var params: ContactsAddParams {
            id.hasPrefix("estafette:")
                ? ContactsAddParams(name: name, invite: id) : ContactsAddParams(name: name, id: id)
        }

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.contactsAdd, params, as: ContactAdded.self)
                try options.output(reply, human: { Self.describe(name, $0) })
            }
        }

        static func describe(_ name: String, _ added: ContactAdded) -> String {
            var lines = [tr("contacts.added", sanitized(name))]
            if let suggested = added.invite_name, suggested != name {
                lines.append(tr("contacts.inviteName", sanitized(suggested)))
            }
            for r in added.relays ?? [] {
                lines.append(tr("contacts.relayHint", sanitized(r)))
            }
            lines.append(
                tr(
                    "contacts.compare",
                    Style.out.command("estafette contacts safety-number \(shellQuoted(sanitized(name)))")))
            return lines.joined(separator: "\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("contacts.list.abstract"), aliases: ["ls"])

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.contactsList, Empty(), as: ContactsList.self)
                try options.output(reply, human: Self.describe)
            }
        }

        static func describe(_ list: ContactsList) -> String {
            if list.contacts.isEmpty { return tr("contacts.none") }
            let style = Style.out
            let rows = list.contacts.map {
                [
                    sanitized($0.name), sanitized($0.id),
                    $0.verified ? style.green(tr("contacts.yes")) : style.yellow(tr("contacts.no")),
                ]
            }
            return table(rows, header: [tr("contacts.col.name"), tr("contacts.col.id"), tr("contacts.col.verified")])
                .joined(separator: "\n")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: tr("contacts.rm.abstract"), aliases: ["remove"])

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("contacts.nameArg")))
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsRemove, ContactsRemoveParams(name: name), as: OK.self)
                guard reply.value.ok else { throw CLIError(tr("error.notRemoved", sanitized(name))) }
                try options.output(reply) { _ in tr("contacts.removed", sanitized(name)) }
            }
        }
    }
}

extension Estafette.Contacts {
    struct SafetyNumberCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "safety-number",
            abstract: tr("contacts.sn.abstract"), discussion: tr("contacts.sn.discussion"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("contacts.nameArg")))
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
            var lines = [tr("contacts.sn.title", sanitized(info.name)), ""]
            for row in stride(from: 0, to: groups.count, by: 4) {
                lines.append("    " + Style.out.bold(groups[row..<min(row + 4, groups.count)].joined(separator: "  ")))
            }
            lines.append("")
            lines.append(
                info.verified
                    ? Style.out.green(tr("contacts.sn.verified", sanitized(info.name)))
                    : tr(
                        "contacts.sn.notVerified", sanitized(info.name),
                        Style.out.command("estafette contacts verify " + shellQuoted(sanitized(info.name)))))
            return lines.joined(separator: "\n")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("contacts.verify.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("contacts.nameArg")))
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.contactsVerify, ContactNameParams(name: name), as: OK.self)
                try options.output(reply) { _ in tr("contacts.verified", sanitized(name)) }
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
