import ArgumentParser
import EstafetteAPI
import Testing

@testable import estafette

@Suite(.plainEnglish) struct ParsingTests {
    @Test func sendWithText() throws {
        let command = try Estafette.parseAsRoot(["send", "bob", "hi there"])
        let send = try #require(command as? Estafette.Send)
        #expect(send.contact == "bob")
        #expect(send.text == "hi there")
        #expect(send.options.json == false)
    }

    @Test func sendWithoutTextReadsStdinLater() throws {
        let send = try #require(try Estafette.parseAsRoot(["send", "bob"]) as? Estafette.Send)
        #expect(send.contact == "bob")
        #expect(send.text == nil)
    }

    @Test func socketOptionIsHonoured() throws {
        let status = try #require(
            try Estafette.parseAsRoot(["status", "--socket", "/tmp/x/e.sock", "--json"]) as? Estafette.Status)
        #expect(status.options.socket == "/tmp/x/e.sock")
        #expect(status.options.socketPath == "/tmp/x/e.sock")
        #expect(status.options.client.socketPath == "/tmp/x/e.sock")
        #expect(status.options.json)
    }

    @Test func globalOptionsBeforeTheSubcommand() throws {
        let args = Estafette.hoistGlobalOptions(["--socket", "/tmp/b.sock", "--json", "inbox", "--unread"])
        #expect(args == ["inbox", "--socket", "/tmp/b.sock", "--json", "--unread"])
        let inbox = try #require(try Estafette.parseAsRoot(args) as? Estafette.Inbox)
        #expect(inbox.options.socketPath == "/tmp/b.sock")
        #expect(inbox.options.json)
        let nested = Estafette.hoistGlobalOptions(["--socket=/s", "contacts", "add", "bob", "es1x"])
        let add = try #require(try Estafette.parseAsRoot(nested) as? Estafette.Contacts.Add)
        #expect(add.options.socket == "/s")
        #expect(add.name == "bob")
        let join = try #require(
            try Estafette.parseAsRoot(Estafette.hoistGlobalOptions(["--socket", "/s", "channel", "join", "assemblee"]))
                as? Estafette.Channel.Join)
        #expect(join.options.socket == "/s")
        #expect(join.name == "assemblee")
        // Nothing to move: unchanged.
        #expect(Estafette.hoistGlobalOptions(["send", "bob", "--", "--json"]) == ["send", "bob", "--", "--json"])
    }

    @Test func contactsSubcommandsAndAliases() throws {
        let add = try #require(
            try Estafette.parseAsRoot(["contacts", "add", "bob", "es1xyz"]) as? Estafette.Contacts.Add)
        #expect(add.name == "bob")
        #expect(add.id == "es1xyz")
        #expect(try Estafette.parseAsRoot(["contacts", "list"]) is Estafette.Contacts.List)
        #expect(try Estafette.parseAsRoot(["contacts", "ls"]) is Estafette.Contacts.List)
        let rm = try #require(try Estafette.parseAsRoot(["contacts", "rm", "bob"]) as? Estafette.Contacts.Remove)
        #expect(rm.name == "bob")
        #expect(try Estafette.parseAsRoot(["contacts", "remove", "bob"]) is Estafette.Contacts.Remove)
    }

    @Test func inboxOptions() throws {
        let inbox = try #require(
            try Estafette.parseAsRoot(["inbox", "--unread", "--limit", "5", "--json"]) as? Estafette.Inbox)
        #expect(inbox.unread)
        #expect(inbox.listing.limit == 5)
        #expect(inbox.options.json)
        let plain = try #require(try Estafette.parseAsRoot(["inbox"]) as? Estafette.Inbox)
        #expect(!plain.unread)
        #expect(plain.listing.limit == nil)
    }

    @Test func inboxLimitOutOfRangeIsAnArgumentError() {
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["inbox", "--limit", "0"]) }
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["inbox", "--limit", "1001"]) }
    }

    @Test func otherSubcommands() throws {
        #expect(try Estafette.parseAsRoot(["id"]) is Estafette.ID)
        #expect(try Estafette.parseAsRoot(["peers"]) is Estafette.Peers)
        #expect(try Estafette.parseAsRoot(["watch", "--json"]) is Estafette.Watch)
        let alert = try #require(try Estafette.parseAsRoot(["alert", "road closed"]) as? Estafette.Alert)
        #expect(alert.text == "road closed")
        let follow = try #require(try Estafette.parseAsRoot(["follow", "es1abc"]) as? Estafette.Follow)
        #expect(follow.id == "es1abc")
        let post = try #require(
            try Estafette.parseAsRoot(["channel", "post", "assemblee", "AG à 18 h"]) as? Estafette.Channel.Post)
        #expect(post.channel == "assemblee")
        #expect(post.text == "AG à 18 h")
        #expect(try Estafette.parseAsRoot(["channel"]) is Estafette.Channel.List)
        let expiring = try #require(
            try Estafette.parseAsRoot(["channel", "post", "assemblee", "x", "--expires", "2h"]) as? Estafette.Channel.Post)
        #expect(expiring.expires?.seconds == 7_200)
        let send = try #require(try Estafette.parseAsRoot(["send", "bob", "hi", "--expires", "90"]) as? Estafette.Send)
        #expect(send.expires?.seconds == 90)
        #expect(ExpiryOption(argument: "1d")?.seconds == 86_400)
        #expect(ExpiryOption(argument: "30m")?.seconds == 1_800)
        for bad in ["", "h", "-5m", "2w", "1.5h", "٣h", "99999999999999999999d"] {
            #expect(ExpiryOption(argument: bad) == nil, "\(bad)")
        }
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["send", "bob", "hi", "--expires", "soon"]) }
        let block = try #require(try Estafette.parseAsRoot(["block", "es1abc"]) as? Estafette.Block)
        #expect(block.id == "es1abc")
    }

    @Test func missingArgumentIsAnArgumentError() {
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["send"]) }
        #expect(throws: (any Error).self) { try Estafette.parseAsRoot(["contacts", "add", "bob"]) }
    }

    @Test func rootHelpSnapshot() {
        let help = Estafette.helpMessage(columns: 100)
        for name in [
            "status", "id", "contacts", "send", "alert", "follow", "inbox", "watch", "peers", "relays", "export",
            "import", "channel", "block", "unblock", "requests", "wipe", "invite", "sent",
        ] {
            #expect(help.contains("\n  \(name) "), "help lists \(name)")
        }
        #expect(help == Self.rootHelp)
    }

    static let rootHelp = """
        OVERVIEW: Send and read messages through the local Estafette mesh daemon.

        Every command talks to a running `estafetted` over its Unix socket. Pass --json to any command to
        get the daemon's result as one line of JSON (for scripts; always in English).

        FIRST TEN MINUTES (two people on one Wi-Fi):
          estafetted                              start the daemon (or scripts/run.sh)
          estafette invite --name Alice           your invite: one line and a QR code
          estafette contacts add bob 'estafette:invite?…'
                                                  add Bob from his invite
          estafette contacts safety-number bob    read the digits aloud with Bob;
          estafette contacts verify bob           if they match, mark him verified
          estafette send bob "meet at 6"          a sealed direct message
          estafette inbox                         what arrived (estafette watch: live)

        CHANNELS (a group that shares a passphrase):
          estafette channel join assemblee        asks for the passphrase
          estafette channel post assemblee "AG at 6 pm" --expires 2h

        AT A CHECKPOINT:
          estafette wipe --yes                    destroy keys, messages, contacts

        Guide: docs/guide.md. Messages follow LC_ALL, LC_MESSAGES or LANG (English, French).

        USAGE: estafette <subcommand>

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          status                  The daemon's health on one screen: uptime, peers, relay links, store,
                                  drops, warnings.
          id                      Show this node's ID (to give to contacts) and its fingerprint (to compare
                                  in person).
          contacts                Manage contacts: local names for IDs.
          send                    Send a direct message to a contact or an ID.
          alert                   Post a signed public alert to the whole mesh.
          follow                  Follow the alerts of an ID.
          inbox                   List received messages and alerts, newest first.
          watch                   Print messages and alerts as they arrive, until the daemon closes the
                                  connection.
          peers                   List the peers the daemon currently knows.
          relays                  List the relays this node links to; add or remove them.
          export                  Write the stored envelopes to a bundle file, to carry to another island.
          import                  Read a bundle file through the same checks as envelopes from the network.
          channel                 Passphrase channels: join, leave, list, post.
          block                   Hide everything from an ID: messages, channel posts and alerts.
          unblock                 Show messages from a blocked ID again.
          requests                List message requests: direct messages from strangers, kept apart.
          wipe                    Panic wipe: destroy the keys, messages and contacts for good, and stop
                                  the daemon.
          invite                  Print an invite to add you as a contact: one line and a QR code.
          sent                    List the direct messages you sent and whether they were delivered.

          See 'estafette help <subcommand>' for detailed help.
        """
}
