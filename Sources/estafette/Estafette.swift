import ArgumentParser
import EstafetteAPI

/// The `estafette` command: talks to the local `estafetted` over its Unix socket.
@main
struct Estafette: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "estafette",
        abstract: "Send and read messages through the local Estafette mesh daemon.",
        discussion: """
            Every command talks to a running `estafetted` over its Unix socket. Pass --json to any \
            command to get the daemon's result as one line of JSON.
            """,
        version: version,
        subcommands: [
            Status.self, ID.self, Contacts.self, Send.self, Alert.self, Follow.self, Inbox.self, Watch.self,
            Peers.self, Relays.self, Export.self, Import.self, Channel.self, Block.self, Unblock.self,
            Requests.self, Wipe.self, Invite.self, Sent.self,
        ]
    )

    /// Lets the global options (`--socket`, `--json`) come before the subcommand too, as in
    /// `estafette --socket /tmp/bob.sock inbox`.
    static func main() async {
        let args = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(args)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Moves `--socket PATH`, `--socket=PATH` and `--json` found before the subcommand to just after it (after
    /// `contacts add`, for a nested one), where the subcommand's option group parses them.
    static func hoistGlobalOptions(_ args: [String]) -> [String] {
        var hoisted: [String] = []
        var rest = args[...]
        while let first = rest.first, first.hasPrefix("--") {
            if first == "--socket", rest.count >= 2 {
                hoisted += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--socket=") || first == "--json" {
                hoisted.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !hoisted.isEmpty, let sub = rest.first, !sub.hasPrefix("-") else { return args }
        var path = [sub]
        rest = rest.dropFirst()
        if ["contacts", "relays", "channel"].contains(sub), let leaf = rest.first, !leaf.hasPrefix("-") {
            path.append(leaf)
            rest = rest.dropFirst()
        }
        return path + hoisted + Array(rest)
    }
}

/// Options shared by every subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Path of estafetted's Unix socket (default: $ESTAFETTE_SOCKET, else your own daemon's socket, "
                + "else the system service's /run/estafette/estafetted.sock).",
            valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's result as one line of JSON.")
    var json = false

    /// `--socket`, else `$ESTAFETTE_SOCKET`, else the user's daemon, else the system service.
    var socketPath: String { DefaultPaths.clientSocketPath(explicit: socket) }

    var client: RPCClient { RPCClient(socketPath: socketPath) }
}
