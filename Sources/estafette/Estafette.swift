import ArgumentParser
import EstafetteAPI

/// The `estafette` command: talks to the local `estafetted` over its Unix socket.
@main
struct Estafette: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "estafette",
        abstract: tr("root.abstract"),
        discussion: tr("root.discussion"),
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
        let given = Array(CommandLine.arguments.dropFirst())
        if given.isEmpty {
            writeOut(welcome())
            return
        }
        let args = hoistGlobalOptions(given)
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

    /// What `estafette` alone prints: what to do first, in order.
    static func welcome(style: Style = Style.out) -> String {
        let steps = [
            (tr("welcome.step.daemon"), "estafetted"),
            (tr("welcome.step.invite"), "estafette invite --name " + tr("welcome.exampleName")),
            (tr("welcome.step.add"), "estafette contacts add bob 'estafette:invite?…'"),
            (tr("welcome.step.send"), "estafette send bob \"" + tr("welcome.exampleText") + "\""),
        ]
        let rows = steps.enumerated().map { i, step in ["  \(i + 1). " + step.0, style.command(step.1)] }
        let then = [
            ("estafette inbox", tr("welcome.then.read")), ("estafette channel join NAME", tr("welcome.then.channel")),
            ("estafette --help", tr("welcome.then.help")),
        ].map { ["  " + style.command($0.0), $0.1] }
        return
            ([style.bold(tr("welcome.title")), "", tr("welcome.first")] + table(rows, style: style)
            + ["", tr("welcome.then")] + table(then, style: style) + ["", tr("welcome.guide")])
            .joined(separator: "\n")
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
        help: ArgumentHelp(tr("opt.socket"), valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: ArgumentHelp(tr("opt.json")))
    var json = false

    /// `--socket`, else `$ESTAFETTE_SOCKET`, else the user's daemon, else the system service.
    var socketPath: String { DefaultPaths.clientSocketPath(explicit: socket) }

    var client: RPCClient { RPCClient(socketPath: socketPath) }
}
