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
            abstract: "Passphrase channels: join, leave, list, post.",
            discussion: """
                Everyone who joins a channel with the same name and passphrase reads its posts; nobody else can. \
                A wrong passphrase is not refused: it joins another, empty channel, which looks exactly the same. \
                Posts show their author's ID to every member, and are signed: a member can prove who wrote one.
                """,
            subcommands: [List.self, Join.self, Leave.self, Post.self], defaultSubcommand: List.self)
    }
}

extension Estafette.Channel {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the joined channels.", aliases: ["ls"])

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(RPC.Method.channelsList, Empty(), as: ChannelsList.self)
                try options.output(reply) { Self.describe($0) }
            }
        }

        static func describe(_ list: ChannelsList) -> String {
            if list.channels.isEmpty { return "No channels joined." }
            return table(list.channels.map { [sanitized($0.name), "joined \(localTime($0.joined_at))"] })
                .joined(separator: "\n")
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join a channel; the passphrase is read from the terminal (or one line of standard input).")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The channel's name, exactly as the other members spell it.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                guard let passphrase = readPassphrase(prompt: "Passphrase for \(sanitized(name)): "),
                    !passphrase.isEmpty
                else {
                    throw ValidationError("no passphrase given")
                }
                let reply = try await options.client.fetch(
                    RPC.Method.channelsJoin, ChannelsJoinParams(name: name, passphrase: passphrase),
                    as: ChannelJoined.self)
                try options.output(reply) { "Joined channel \(sanitized($0.channel))." }
            }
        }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Leave a channel (its posts are still carried).")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The channel's name.")
        var name: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.channelsLeave, ChannelsLeaveParams(name: name), as: OK.self)
                try options.output(reply) { _ in "Left channel \(sanitized(name))." }
            }
        }
    }

    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Post to a joined channel.")

        @OptionGroup var options: GlobalOptions

        @Argument(help: "The channel's name.")
        var channel: String

        @Argument(help: "The text to post.")
        var text: String

        @Option(name: .long, help: ExpiryOption.help)
        var expires: ExpiryOption?

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.channelsPost, ChannelsPostParams(channel: channel, text: text, expires_in: expires?.seconds), as: MessageSent.self)
                try options.output(reply) { "Posted to \(sanitized(channel)) (\($0.message_id))." }
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
