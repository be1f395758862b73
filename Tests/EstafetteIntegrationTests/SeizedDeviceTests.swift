import EstafetteAPI
import EstafetteCore
import EstafetteTestKit
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a seized device reveals (issue 10), with real daemons: raw searches of the data directory's files while
/// the daemon runs, after it stops, and after a panic wipe; the start-up checks; the process's hardening.
@Suite("Seized device", .serialized)
struct SeizedDeviceTests {
    static let text = "the printing press is in the cellar of number 12"
    static let channel = "assemblee-quartier-nord"
    static let channelText = "tractors meet behind the bakery at dawn"

    @Test(
        "nothing in the clear while running and after stop; wipe refuses without confirm, then empties and exits 10",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(2)))
    func sealedAndWiped() async throws {
        let root = try makeScratchDir("seized")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let a = try Daemon.forTest("a", root: root, group: group, port: port)
        let b = try Daemon.forTest("b", root: root, group: group, port: port)
        try await withDaemons([a, b]) {
            try await a.start()
            try await b.start()
            let (idA, idB) = (try await a.id(), try await b.id())
            _ = try await a.call(
                RPC.Method.contactsAdd, ContactsAddParams(name: "Bérénice Okafor", id: idB), as: OK.self)
            _ = try await b.call(RPC.Method.contactsAdd, ContactsAddParams(name: "Anselm Quist", id: idA), as: OK.self)
            // A verified contact too: the mark must not name anyone.
            _ = try await b.call(RPC.Method.contactsVerify, ContactNameParams(name: "Anselm Quist"), as: OK.self)
            _ = try await b.call(RPC.Method.alertsFollow, AlertsFollowParams(id: idA), as: OK.self)
            try await waitUntil("A and B see each other") {
                let pa = try await a.status().peers
                let pb = try await b.status().peers
                return pa >= 1 && pb >= 1
            }
            let sent = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "Bérénice Okafor", text: Self.text),
                as: MessageSent.self)
            try await waitUntil("B has the message") {
                try await b.inbox().contains { $0.message_id == sent.message_id && $0.text == Self.text }
            }
            // A channel both joined: its name, its post and the blocked ID are sealed too.
            for d in [a, b] {
                _ = try await d.call(
                    RPC.Method.channelsJoin, ChannelsJoinParams(name: Self.channel, passphrase: "okapi lantern cellar"),
                    as: ChannelJoined.self)
            }
            let post = try await a.call(
                RPC.Method.channelsPost, ChannelsPostParams(channel: Self.channel, text: Self.channelText),
                as: MessageSent.self)
            try await waitUntil("B has the channel post") {
                try await b.inbox().contains { $0.message_id == post.message_id && $0.channel == Self.channel }
            }

            // Hardening: no core dumps.
            for d in [a, b] {
                let limits = try String(contentsOfFile: "/proc/\(d.pid)/limits", encoding: .utf8)
                let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") } ?? ""
                #expect(
                    core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"],
                    "\(core)")
            }

            let needles = try Self.needles(
                ids: [idA, idB], names: ["Bérénice Okafor", "Anselm Quist", Self.channel],
                texts: [Self.text, Self.channelText])
            for d in [a, b] { try Self.expectNothingInTheClear(d.dataDir, needles) }
            await a.stopCleanly()
            await b.stopCleanly()
            for d in [a, b] { try Self.expectNothingInTheClear(d.dataDir, needles) }

            // The wipe, through the API: refused without confirm, nothing touched.
            try await b.start()
            #expect(try await b.inbox().contains { $0.text == Self.text }, "the inbox survives a restart")
            var refused: RPCErrorObject?
            do {
                _ = try await b.call(RPC.Method.nodeWipe, NodeWipeParams(confirm: nil), as: NodeWiped.self)
            } catch RPCClientError.remote(let e) { refused = e }
            #expect(refused?.code == RPC.ErrorCode.confirmationRequired)
            #expect(refused?.message.contains("\"confirm\": true") == true)
            #expect(FileManager.default.fileExists(atPath: b.dataDir + "/data.key"))
            try b.ensureRunning()

            let wiped = try await b.call(RPC.Method.nodeWipe, NodeWipeParams(confirm: true), as: NodeWiped.self)
            #expect(wiped.wiped && wiped.files >= 4)
            try await waitUntil("B stops after the wipe") { !b.isRunning }
            #expect(await b.stop() == WipeExit.status)
            let left = try FileManager.default.contentsOfDirectory(atPath: b.dataDir)
            #expect(left.isEmpty, "left after the wipe: \(left)")

            // The CLI: refuses without --yes; wipes with it.
            let cli = try Self.cli()
            let no = try runCommand(cli, ["wipe", "--socket", a.socket])
            #expect(no.exitCode == 64 && no.output.contains("--yes"), "\(no.output)")
            try await a.start()
            let yes = try runCommand(cli, ["wipe", "--yes", "--socket", a.socket], timeout: 20)
            #expect(yes.exitCode == 0 && yes.output.contains("Wiped"), "\(yes.output)")
            try await waitUntil("A stops after the wipe") { !a.isRunning }
            #expect(await a.stop() == WipeExit.status)
            #expect(try FileManager.default.contentsOfDirectory(atPath: a.dataDir).isEmpty)
        }
    }

    @Test("the daemon refuses a data directory or an identity key that others may read, naming it and why")
    func refusesOpenModes() async throws {
        let dir = try makeScratchDir("seized-modes")
        defer { removeScratchDir(dir) }
        let data = dir + "/data"
        #expect(mkdir(data, 0o755) == 0 && chmod(data, 0o755) == 0)
        let open = try await runDaemonToExit(["--data-dir", data, "--socket", dir + "/s", "--interface", "lo"])
        #expect(open.status == 78, "\(open.output)")
        #expect(open.output.contains("\(data): the data directory is open to other users"), "\(open.output)")
        #expect(open.output.contains("others can read") && open.output.contains("chmod 700"), "\(open.output)")
        #expect(!FileManager.default.fileExists(atPath: data + "/identity.key"), "nothing created")

        #expect(chmod(data, 0o700) == 0)
        let id = data + "/identity.key"
        try ("estafette-identity-v1\n" + String(repeating: "ab", count: 32) + "\n").write(
            toFile: id, atomically: false, encoding: .utf8)
        #expect(chmod(id, 0o644) == 0)
        let key = try await runDaemonToExit(["--data-dir", data, "--socket", dir + "/s", "--interface", "lo"])
        #expect(key.status == 78, "\(key.output)")
        #expect(key.output.contains("\(id): the identity key is readable or writable by others"), "\(key.output)")
        #expect(key.output.contains("chmod 600"), "\(key.output)")
    }

    @Test(
        "the daemon is not dumpable: its /proc files belong to root though it runs as another user",
        .enabled(
            if: getuid() == 0 && Loopback.multicastReady, "needs root (to run the daemon as nobody) and multicast on lo"
        ))
    func notDumpable() async throws {
        let root = try makeScratchDir("seized-dump")
        defer { removeScratchDir(root) }
        #expect(chmod(root, 0o755) == 0)
        let (group, port) = randomGroupAndPort()
        let d = try Daemon(
            name: "n", root: root, group: group, port: port, logLevel: "debug",
            prefix: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        #expect(chown(d.dir, 65534, 65534) == 0)
        try await withDaemons([d]) {
            try await d.start()
            let status = try String(contentsOfFile: "/proc/\(d.pid)/status", encoding: .utf8)
            #expect(status.contains("Uid:\t65534\t65534"), "the daemon runs as nobody: \(status.prefix(400))")
            var st = stat()
            #expect(stat("/proc/\(d.pid)/environ", &st) == 0)
            #expect(st.st_uid == 0, "a dumpable process's /proc files belong to its own user (65534)")
            await d.stopCleanly()
        }
    }

    @Test(
        "sealed key files open with --passphrase-fd or a credential; a missing or wrong passphrase touches nothing",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(2)))
    func passphrase() async throws {
        let root = try makeScratchDir("seized-pass")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let daemon = try Binaries.daemon()
        try "first passphrase\n".write(toFile: root + "/pass", atomically: false, encoding: .utf8)
        #expect(mkdir(root + "/creds", 0o700) == 0)
        try "first passphrase".write(toFile: root + "/creds/passphrase", atomically: false, encoding: .utf8)
        #expect(mkdir(root + "/wrong", 0o700) == 0)
        try "second passphrase".write(toFile: root + "/wrong/passphrase", atomically: false, encoding: .utf8)

        let plain = try Daemon.forTest("n", root: root, group: group, port: port)
        let idN: String = try await {
            var id = ""
            try await withDaemons([plain]) {
                try await plain.start()
                id = try await plain.id()
                _ = try await plain.call(
                    RPC.Method.contactsAdd, ContactsAddParams(name: "Odile", id: id), as: OK.self)
                await plain.stopCleanly()
            }
            return id
        }()

        // Seal both key files with a passphrase read from descriptor 3.
        let sealed = try runCommand(
            "/bin/sh",
            [
                "-c", "exec \"$@\" 3<\(root)/pass", "sh", daemon, "--config", plain.configPath,
                "--reseal-keys", "--new-passphrase-fd", "3",
            ], timeout: 30)
        #expect(sealed.exitCode == 0, "\(sealed.output)")
        for f in ["identity.key", "data.key"] {
            let first = try String(contentsOfFile: plain.dataDir + "/" + f, encoding: .utf8).split(separator: "\n")[0]
            #expect(first.hasSuffix(" argon2id"), "\(f): \(first)")
        }
        let before = try ["identity.key", "data.key"].map {
            try Data(contentsOf: URL(fileURLWithPath: plain.dataDir + "/" + $0))
        }

        // No passphrase, a wrong one: exit 78, the reason, nothing touched.
        let none = try await runDaemonToExit(["--config", plain.configPath])
        #expect(none.status == 78 && none.output.contains("sealed with a passphrase"), "\(none.output)")
        let wrong = try runCommand(
            "/usr/bin/env", ["CREDENTIALS_DIRECTORY=\(root)/wrong", daemon, "--config", plain.configPath], timeout: 30)
        #expect(wrong.exitCode == 78 && wrong.output.contains("wrong passphrase"), "\(wrong.output)")
        let after = try ["identity.key", "data.key"].map {
            try Data(contentsOf: URL(fileURLWithPath: plain.dataDir + "/" + $0))
        }
        #expect(after == before)

        // The right one, from a descriptor, then from a systemd credential: same identity, same contacts.
        let byFD = try Daemon(
            name: "n", root: root, group: group, port: port, logLevel: "debug",
            prefix: ["/bin/sh", "-c", "exec \"$@\" 3<\(root)/pass", "sh"])
        byFD.extraArguments = ["--passphrase-fd", "3"]
        let byCredential = try Daemon(
            name: "n", root: root, group: group, port: port, logLevel: "debug",
            prefix: ["/usr/bin/env", "CREDENTIALS_DIRECTORY=\(root)/creds"])
        // Typed on a terminal: the daemon runs on a pseudo-terminal whose other side types when asked.
        let transcript = root + "/tty.log"
        let byTerminal = try Daemon(
            name: "n", root: root, group: group, port: port, logLevel: "debug",
            prefix: ["/usr/bin/python3", "-c", Self.typist, transcript, "first passphrase"])
        for d in [byFD, byCredential, byTerminal] {
            try await withDaemons([d]) {
                try await d.start()
                #expect(try await d.id() == idN)
                let contacts = try await d.call(RPC.Method.contactsList, Empty(), as: ContactsList.self).contacts
                #expect(contacts.map(\.name) == ["Odile"])
                await d.stopCleanly()
            }
        }
        let typed = try String(contentsOfFile: transcript, encoding: .utf8)
        #expect(typed.contains("Passphrase of the keys in \(plain.dataDir): "), "\(typed.prefix(500))")
        #expect(!typed.contains("first passphrase"), "the passphrase was echoed: \(typed.prefix(500))")
    }

    /// Runs argv[3:] on a pseudo-terminal, copies what it shows to the file argv[1], and types argv[2] and a
    /// newline once it asks for a passphrase; passes SIGTERM and SIGINT on, and exits with its status.
    static let typist = """
        import os, pty, signal, sys
        log, secret, argv = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(argv[0], argv)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda s, f: os.kill(pid, s))
        seen, typed = b"", False
        with open(log, "wb") as out:
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out.write(chunk)
                out.flush()
                seen += chunk
                if not typed and b"Passphrase of the keys" in seen:
                    os.write(fd, secret + b"\\n")
                    typed = True
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """

    // MARK: - Helpers

    static func cli() throws -> String {
        guard let dir = Binaries.dir else { throw KitError("no built binaries") }
        return dir + "/estafette"
    }

    static func needles(ids: [String], names: [String], texts: [String]) throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for t in texts { out.append(("text", Array(t.utf8))) }
        for n in names { out.append(("name '\(n)'", Array(n.utf8))) }
        for id in ids {
            out.append(("ID \(id)", Array(id.utf8)))
            let key = try PublicID(parsing: id).key.bytes
            out.append(("raw key of \(id)", key))
            out.append(("hex key of \(id)", Array(key.map { String(format: "%02x", $0) }.joined().utf8)))
        }
        return out
    }

    static func expectNothingInTheClear(
        _ dir: String, _ needles: [(String, [UInt8])], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(files.contains("estafette.sqlite"), sourceLocation: sourceLocation)
        for f in files {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue,
                let data = FileManager.default.contents(atPath: dir + "/" + f)
            else { continue }
            let bytes = Array(data)
            for (what, needle) in needles {
                #expect(
                    !rawSearch(bytes, for: needle), "\(what) in the clear in \(f)", sourceLocation: sourceLocation)
            }
        }
    }
}
