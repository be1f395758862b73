import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// The real `estafette` against a real daemon, in English and in French: the same command in both languages, the
/// daemon's errors by their code, and `--json` byte for byte the same whatever the language.
@Suite("The CLI in the user's language, against a live daemon", .serialized)
struct CLILanguageTests {
    /// `estafette ARGS` with the locale variables and NO_COLOR replaced by `locale` (output to a file: no colour).
    static func cli(_ locale: [String], _ args: [String]) throws -> CommandResult {
        let cli = try Binaries.daemon().replacingOccurrences(of: "/estafetted", with: "/estafette")
        let env = ["-u", "LC_ALL", "-u", "LC_MESSAGES", "-u", "LANG", "-u", "NO_COLOR"] + locale
        return try runCommand("/usr/bin/env", env + [cli] + args, timeout: 30)
    }

    @Test(
        "contacts and inbox in French with LANG=fr_FR.UTF-8, --json unchanged, a daemon error translated by its code",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(2)))
    func frenchAgainstALiveDaemon() async throws {
        let root = try makeScratchDir("cli-language")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let a = try Daemon.forTest("a", root: root, group: group, port: port)
        try await withDaemons([a]) {
            try await a.start()
            let idA = try await a.id()
            _ = try await a.call(RPC.Method.contactsAdd, ContactsAddParams(name: "zoé", id: idA), as: ContactAdded.self)
            let french = ["LANG=fr_FR.UTF-8"]
            let english = ["LANG=C.UTF-8"]

            let listFR = try Self.cli(french, ["--socket", a.socket, "contacts", "list"])
            #expect(listFR.exitCode == 0)
            #expect(
                listFR.output == "NOM  ID\(String(repeating: " ", count: idA.count - 2))  VÉRIFIÉ\nzoé  \(idA)  non\n")
            let listEN = try Self.cli(english, ["--socket", a.socket, "contacts", "list"])
            #expect(listEN.output.hasPrefix("NAME  ID"), "\(listEN.output)")
            #expect(!listEN.output.contains("\u{1B}") && !listFR.output.contains("\u{1B}"), "no colour when piped")

            let inboxFR = try Self.cli(french, ["--socket", a.socket, "inbox"])
            #expect(inboxFR.output == "Aucun message.\n")

            for args in [["contacts", "list"], ["inbox"], ["id"], ["channel", "list"]] {
                let fr = try Self.cli(french, ["--socket", a.socket, "--json"] + args)
                let en = try Self.cli(english, ["--socket", a.socket, "--json"] + args)
                #expect(
                    fr.exitCode == 0 && fr.output == en.output, "--json \(args) differs: \(fr.output) / \(en.output)")
            }

            let unknownFR = try Self.cli(french, ["--socket", a.socket, "contacts", "verify", "personne"])
            #expect(unknownFR.exitCode == 1)
            #expect(unknownFR.output.hasPrefix("estafette : contact inconnu (estafetted : "), "\(unknownFR.output)")
            let unknownEN = try Self.cli(english, ["--socket", a.socket, "contacts", "verify", "personne"])
            #expect(unknownEN.exitCode == 1)
            #expect(unknownEN.output.hasPrefix("estafette: no contact named"), "\(unknownEN.output)")
        }
    }
}
