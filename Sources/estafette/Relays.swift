import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Relays: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("relays.abstract"), discussion: tr("relays.discussion"),
            subcommands: [List.self, Add.self, Remove.self], defaultSubcommand: List.self)
    }
}

extension Estafette.Relays {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("relays.list.abstract"), aliases: ["ls"])

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.relaysList, Empty(), as: RelaysList.self)
                let now = nowSeconds()
                try options.output(reply) { Self.describe($0, now: now) }
            }
        }

        static func describe(_ list: RelaysList, now: Int64) -> String {
            if list.relays.isEmpty { return tr("relays.none") }
            let rows = list.relays.map { r in
                [
                    sanitized(r.address), sanitized(r.id), sanitized(r.state),
                    r.last_sync.map { relativeTime($0, now: now) } ?? tr("relays.never"),
                    String(r.envelopes_sent), String(r.envelopes_received), sanitized(r.source),
                ]
            }
            let header = [
                tr("relays.col.address"), tr("relays.col.id"), tr("relays.col.state"), tr("relays.col.synced"),
                tr("relays.col.sent"), tr("relays.col.received"), tr("relays.col.source"),
            ]
            return table(rows, header: header).joined(separator: "\n")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("relays.add.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("relays.address")))
        var address: String

        @Argument(help: ArgumentHelp(tr("relays.id")))
        var id: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.relaysAdd, RelaysAddParams(address: address, id: id), as: OK.self)
                try options.output(reply) { _ in tr("relays.added", sanitized(address)) }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: tr("relays.rm.abstract"), aliases: ["remove"])

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("relays.address")))
        var address: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.relaysRemove, RelaysRemoveParams(address: address), as: OK.self)
                try options.output(reply) { _ in tr("relays.removed", sanitized(address)) }
            }
        }
    }
}
