import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Relays: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the relays this node links to; add or remove them.",
            discussion: """
                A relay is given by its address (host:port) and its ID (es1…, from `estafette id` on the relay), \
                which pins its key: a relay that answers with another key is refused. Relays from the config file \
                are listed too; they are changed in the file.
                """,
            subcommands: [List.self, Add.self, Remove.self], defaultSubcommand: List.self)
    }
}

extension Estafette.Relays {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List relays and their links.", aliases: ["ls"])

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.relaysList, Empty(), as: RelaysList.self)
                let now = nowSeconds()
                try options.output(reply) { Self.describe($0, now: now) }
            }
        }

        static func describe(_ list: RelaysList, now: Int64) -> String {
            if list.relays.isEmpty { return "No relays." }
            let rows = list.relays.map { r in
                [
                    sanitized(r.address), sanitized(r.id), sanitized(r.state),
                    r.last_sync.map { "synced \(max(0, now - $0))s ago" } ?? "never synced",
                    "sent \(r.envelopes_sent)", "received \(r.envelopes_received)", sanitized(r.source),
                ]
            }
            return table(rows).joined(separator: "\n")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Link to a relay (kept across restarts).")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The relay's address, host:port.")
        var address: String

        @Argument(help: "The relay's ID (es1…), as its `estafette id` shows it.")
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.relaysAdd, RelaysAddParams(address: address, id: id), as: OK.self)
                try options.output(reply) { _ in "Added relay \(sanitized(address))." }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Stop linking to a relay added with `relays add`.", aliases: ["remove"])

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The relay's address, host:port.")
        var address: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.relaysRemove, RelaysRemoveParams(address: address), as: OK.self)
                try options.output(reply) { _ in "Removed relay \(sanitized(address))." }
            }
        }
    }
}
