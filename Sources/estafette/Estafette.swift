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
            Peers.self,
        ]
    )
}

/// Options shared by every subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Path of estafetted's Unix socket (default: $ESTAFETTE_SOCKET, else the daemon's default path).",
            valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's result as one line of JSON.")
    var json = false

    /// `--socket`, else `$ESTAFETTE_SOCKET`, else the default location.
    var socketPath: String { DefaultPaths.clientSocketPath(explicit: socket) }

    var client: RPCClient { RPCClient(socketPath: socketPath) }
}
