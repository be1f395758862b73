import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

@testable import estafette

/// Colour only for people at a terminal, and the same screens in French.
@Suite struct TerminalTests {
    @Test("colour on a terminal; none when piped, with NO_COLOR (any value, even empty) or with TERM=dumb")
    func colourDecision() {
        let term = ["TERM": "xterm-256color"]
        #expect(Style.decide(isTerminal: true) { term[$0] } == .coloured)
        #expect(Style.decide(isTerminal: true) { _ in nil } == .coloured, "no TERM at all: still a terminal")
        #expect(Style.decide(isTerminal: false) { term[$0] } == .plain)
        #expect(Style.decide(isTerminal: true) { ["TERM": "xterm", "NO_COLOR": "1"][$0] } == .plain)
        #expect(Style.decide(isTerminal: true) { ["TERM": "xterm", "NO_COLOR": ""][$0] } == .plain)
        #expect(Style.decide(isTerminal: true) { ["TERM": "dumb"][$0] } == .plain)
    }

    @Test("tables pad by what is seen, not by colour escapes")
    func tablesIgnoreEscapes() {
        #expect(visibleWidth("\u{1B}[32myes\u{1B}[0m") == 3)
        #expect(visibleWidth("Zoé") == 3)
        let lines = table([["a", Style.coloured.green("yes")], ["bbbb", "no"]], header: ["N", "V"], style: .plain)
        #expect(lines == ["N     V", "a     \u{1B}[32myes\u{1B}[0m", "bbbb  no"])
    }

    static let contacts = ContactsList(contacts: [
        Contact(name: "bob", id: "es1b", verified: true), Contact(name: "zoé", id: "es1z", verified: false),
    ])

    @Test("contacts on a terminal: underlined headers, verified in green, not verified in yellow")
    func contactsInColour() {
        let text = Catalog.$current.withValue(.english) {
            Style.$out.withValue(.coloured) { Estafette.Contacts.List.describe(Self.contacts) }
        }
        #expect(
            text == "\u{1B}[1;4mNAME\u{1B}[0m  \u{1B}[1;4mID\u{1B}[0m    \u{1B}[1;4mVERIFIED\u{1B}[0m\n"
                + "bob   es1b  \u{1B}[32myes\u{1B}[0m\n" + "zoé   es1z  \u{1B}[33mno\u{1B}[0m")
        let plain = Catalog.$current.withValue(.english) {
            Style.$out.withValue(.plain) { Estafette.Contacts.List.describe(Self.contacts) }
        }
        #expect(plain == "NAME  ID    VERIFIED\nbob   es1b  yes\nzoé   es1z  no")
        #expect(!plain.contains("\u{1B}"))
    }

    @Test("the same screens in French")
    func frenchScreens() {
        Catalog.$current.withValue(.french) {
            Style.$out.withValue(.plain) {
                #expect(
                    Estafette.Contacts.List.describe(Self.contacts)
                        == "NOM  ID    VÉRIFIÉ\nbob  es1b  oui\nzoé  es1z  non")
                var item = InboxItem(
                    message_id: "00", kind: "alert", from: "es1b", from_name: "bob", text: "pont nord fermé",
                    created_at: 0, received_at: 0, read: false)
                item.sender = SenderTrust.verified
                #expect(
                    render(item, time: { relativeTime($0, now: 240) })
                        == "il y a 4 min  alerte  bob  (vérifié)  (NON SUIVI)  [non lu]\n    pont nord fermé")
                #expect(Estafette.Inbox.describe(InboxList(messages: [])) == "Aucun message.")
                #expect(duration(3725) == "1h 2min 5s")
                let status = NodeStatus(
                    id: "es1abc", version: "0.1.0", peers: 2, envelopes: 1, uptime_s: 3725,
                    counters: ["packets_in": 40, "packets_out": 7])
                #expect(
                    Estafette.Status.describe(status) == """
                        Nœud :          es1abc  (estafetted 0.1.0)
                        En marche :     1h 2min 5s
                        Pairs :         2
                        Liens relais :  aucun lien relais
                        Stockage :      1 enveloppe
                        Trafic :        40 paquets reçus, 7 envoyés
                        Rejets :        aucun
                        Avertissements : aucun
                        """)
            }
        }
    }

    // MARK: - The binary, on a pseudo-terminal and piped

    static func cli() throws -> String {
        guard let dir = Binaries.dir else { throw KitError("no estafette binary next to the tests: swift build first") }
        return dir + "/estafette"
    }

    /// Runs `estafette ARGS` with `env` (LC_ALL, LC_MESSAGES, LANG and NO_COLOR removed first); `terminal` runs it
    /// on a pseudo-terminal made by util-linux `script`, else its output goes to a file (as when piped).
    static func run(_ args: [String], env: [String], terminal: Bool) throws -> String {
        let command =
            ["/usr/bin/env", "-u", "LC_ALL", "-u", "LC_MESSAGES", "-u", "LANG", "-u", "NO_COLOR"] + env
            + [try cli()] + args
        if terminal {
            let line = command.map { shellQuoted($0) }.joined(separator: " ")
            let r = try runCommand("/usr/bin/script", ["-qec", line, "/dev/null"], timeout: 30)
            #expect(r.exitCode == 0, "\(r.output)")
            // The terminal turns each \n into \r\n.
            return r.output.replacingOccurrences(of: "\r\n", with: "\n")
        }
        let r = try runCommand(command[0], Array(command.dropFirst()), timeout: 30)
        #expect(r.exitCode == 0, "\(r.output)")
        return r.output
    }

    @Test(
        "`estafette` alone: coloured on a terminal, plain when piped or with NO_COLOR, French with LANG=fr_FR.UTF-8",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux script"))
    func welcomeSnapshots() throws {
        let onTerminal = try Self.run([], env: ["TERM=xterm-256color"], terminal: true)
        #expect(onTerminal == Self.welcomeColour + "\n")
        let piped = try Self.run([], env: ["TERM=xterm-256color"], terminal: false)
        #expect(piped == Self.welcomePlain + "\n")
        let noColor = try Self.run([], env: ["TERM=xterm-256color", "NO_COLOR=1"], terminal: true)
        #expect(noColor == Self.welcomePlain + "\n")
        let dumb = try Self.run([], env: ["TERM=dumb"], terminal: true)
        #expect(dumb == Self.welcomePlain + "\n")
        let french = try Self.run([], env: ["TERM=xterm-256color", "LANG=fr_FR.UTF-8"], terminal: false)
        #expect(french == Self.welcomeFrench + "\n")
        let frenchOnTerminal = try Self.run([], env: ["TERM=xterm-256color", "LANG=fr_FR.UTF-8"], terminal: true)
        #expect(frenchOnTerminal.contains("\u{1B}[1mEstafette : des messages"))
        let missing = "/nonexistent-estafette-test-dir/estafetted.sock"
        let command = [
            "/usr/bin/env", "-u", "LC_ALL", "-u", "LANG", "-u", "NO_COLOR", "TERM=xterm", try Self.cli(), "status",
            "--socket", missing,
        ]
        let failed = try runCommand(
            "/usr/bin/script", ["-qec", command.map { shellQuoted($0) }.joined(separator: " "), "/dev/null"],
            timeout: 30)
        #expect(failed.exitCode == 3)
        #expect(failed.output.hasPrefix("\u{1B}[1;31mestafette:\u{1B}[0m cannot reach estafetted at \(missing)"))
        let forcedEnglish = try Self.run([], env: ["LANG=fr_FR.UTF-8", "LC_ALL=C"], terminal: false)
        #expect(forcedEnglish == Self.welcomePlain + "\n", "LC_ALL=C wins over LANG")
    }

    @Test("help and errors in French")
    func frenchHelpAndErrors() throws {
        let help = try Self.run(["contacts", "--help"], env: ["LANG=fr_FR.UTF-8"], terminal: false)
        #expect(help.contains("Gérer les contacts : des noms locaux pour des ID."), "\(help)")
        #expect(help.contains("safety-number           Afficher le numéro de sécurité"), "\(help)")
        let english = try Self.run(["contacts", "--help"], env: ["LANG=C.UTF-8"], terminal: false)
        #expect(english.contains("Manage contacts: local names for IDs."), "\(english)")
        let missing = "/nonexistent-estafette-test-dir/estafetted.sock"
        let command = ["/usr/bin/env", "-u", "LC_ALL", "-u", "LC_MESSAGES", "LANG=fr_FR.UTF-8", try Self.cli()]
        let down = try runCommand(command[0], Array(command.dropFirst()) + ["status", "--socket", missing])
        #expect(down.exitCode == 3)
        #expect(down.output.hasPrefix("estafette : impossible de joindre estafetted à \(missing)"), "\(down.output)")
        let wipe = try runCommand(command[0], Array(command.dropFirst()) + ["wipe", "--socket", missing])
        #expect(wipe.exitCode == 64)
        #expect(wipe.output.contains("ajoutez --yes"), "\(wipe.output)")
    }

    static let welcomePlain = """
        Estafette: messages that travel from device to device, without the Internet.

        To start:
          1. Start the daemon (leave it running):  estafetted
          2. Make an invite for a friend:          estafette invite --name Alice
          3. Add their invite as a contact:        estafette contacts add bob 'estafette:invite?…'
          4. Send a message:                       estafette send bob "hello"

        Then:
          estafette inbox              read what arrived
          estafette channel join NAME  a group that shares a passphrase
          estafette --help             every command, with examples

        Guide: docs/guide.md (the first ten minutes, channels, checkpoints).
        """
    static let welcomeColour = """
        \u{1B}[1mEstafette: messages that travel from device to device, without the Internet.\u{1B}[0m

        To start:
          1. Start the daemon (leave it running):  \u{1B}[36mestafetted\u{1B}[0m
          2. Make an invite for a friend:          \u{1B}[36mestafette invite --name Alice\u{1B}[0m
          3. Add their invite as a contact:        \u{1B}[36mestafette contacts add bob 'estafette:invite?…'\u{1B}[0m
          4. Send a message:                       \u{1B}[36mestafette send bob "hello"\u{1B}[0m

        Then:
          \u{1B}[36mestafette inbox\u{1B}[0m              read what arrived
          \u{1B}[36mestafette channel join NAME\u{1B}[0m  a group that shares a passphrase
          \u{1B}[36mestafette --help\u{1B}[0m             every command, with examples

        Guide: docs/guide.md (the first ten minutes, channels, checkpoints).
        """
    static let welcomeFrench = """
        Estafette : des messages qui voyagent d'appareil en appareil, sans Internet.

        Pour commencer :
          1. Démarrez le démon (laissez-le tourner) :  estafetted
          2. Créez une invitation pour un ami :        estafette invite --name Alice
          3. Ajoutez son invitation comme contact :    estafette contacts add bob 'estafette:invite?…'
          4. Envoyez un message :                      estafette send bob "bonjour"

        Ensuite :
          estafette inbox              lire ce qui est arrivé
          estafette channel join NAME  un groupe qui partage une phrase de passe
          estafette --help             toutes les commandes, avec des exemples

        Guide : docs/guide.md (les dix premières minutes, les canaux, les contrôles).
        """
}
