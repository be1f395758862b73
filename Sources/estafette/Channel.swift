import ArgumentParser
import EstafetteAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Estafette {
    struct Channel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("channel.abstract"), discussion: tr("channel.discussion"),
            subcommands: [List.self, Join.self, Leave.self, Post.self], defaultSubcommand: List.self)
    }
}

extension Estafette.Channel {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("channel.list.abstract"), aliases: ["ls"])

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.channelsList, Empty(), as: ChannelsList.self)
                let now = nowSeconds()
                try options.output(reply) { Self.describe($0, now: now) }
            }
        }

        static func describe(_ list: ChannelsList, now: Int64) -> String {
            if list.channels.isEmpty { return tr("channel.none") }
            return table(
                list.channels.map { [sanitized($0.name), relativeTime($0.joined_at, now: now)] },
                header: [tr("channel.col.name"), tr("channel.col.joined")]
            ).joined(separator: "\n")
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("channel.join.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("channel.join.name")))
        var name: String

        func run() async throws {
            try await reportingErrors {
                guard let passphrase = readPassphrase(prompt: tr("channel.prompt", sanitized(name))),
                    !passphrase.isEmpty
                else {
                    throw ValidationError(tr("error.noPassphrase"))
                }
                let reply = try await options.client.fetch(
                    RPC.Method.channelsJoin, ChannelsJoinParams(name: name, passphrase: passphrase),
                    as: ChannelJoined.self)
                try options.output(reply) { tr("channel.joined", sanitized($0.channel)) }
            }
        }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("channel.leave.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("channel.name")))
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.channelsLeave, ChannelsLeaveParams(name: name), as: OK.self)
                try options.output(reply) { _ in tr("channel.left", sanitized(name)) }
            }
        }
    }

    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("channel.post.abstract"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("channel.name")))
        var channel: String

        @Argument(help: ArgumentHelp(tr("channel.post.text")))
        var text: String

        @Option(name: .long, help: ExpiryOption.help)
        var expires: ExpiryOption?

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.channelsPost,
                    ChannelsPostParams(channel: channel, text: text, expires_in: expires?.seconds), as: MessageSent.self
                )
                try options.output(reply) { tr("channel.posted", sanitized(channel), $0.message_id) }
            }
        }
    }
}

/// A passphrase from the terminal without echo, else one line of standard input (for scripts).
func readPassphrase(prompt: String) -> String? {
    if isatty(0) == 1, let p = getpass(prompt) {
        return String(cString: p)
    }
    return readLine(strippingNewline: true)
}
