import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// Invites, safety numbers and verification end to end: the real `estafette` binary prints an invite and its QR
/// code; the QR code is read back from the terminal's half blocks and decoded by zbarimg; the other node adds the
/// decoded invite through the CLI, both sides compare safety numbers, and a verified contact's message says so.
@Suite("Invites and verification, two daemons over loopback multicast", .serialized)
struct PeopleMeshTests {
    /// The modules a terminal shows for half-block lines drawn for a dark background (light modules inked); an
    /// implementation independent of the CLI's.
    static func modules(_ lines: [String]) throws -> [[Bool]] {
        var rows: [[Bool]] = []
        for line in lines {
            var top: [Bool] = []
            var bottom: [Bool] = []
            for c in line {
                guard let ink = ["█": (true, true), "▀": (true, false), "▄": (false, true), " ": (false, false)][c]
                else { throw KitError("not a half block: \(c)") }
                top.append(!ink.0)
                bottom.append(!ink.1)
            }
            rows += [top, bottom]
        }
        if rows.count == (rows.first?.count ?? 0) + 1 { rows.removeLast() }
        return rows
    }

    static func decodeQR(_ lines: [String], dir: String) throws -> String {
        let zbarimg = "/usr/bin/zbarimg"
        guard FileManager.default.isExecutableFile(atPath: zbarimg) else {
            throw KitError("zbarimg is missing: install zbar-tools (scripts/install-deps.sh --tests)")
        }
        let rows = try modules(lines)
        var pbm = "P1\n\(rows.count * 4) \(rows.count * 4)\n"
        for row in rows {
            let line = row.flatMap { Array(repeating: $0 ? "1" : "0", count: 4) }.joined(separator: " ")
            for _ in 0..<4 { pbm += line + "\n" }
        }
        let path = dir + "/invite.pbm"
        try pbm.write(toFile: path, atomically: true, encoding: .utf8)
        let out = try runChecked(zbarimg, ["--raw", "-q", "--nodbus", path], timeout: 20)
        let decoded = out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("estafette:") }
        guard decoded.count == 1 else { throw KitError("zbarimg decoded \(decoded.count) symbols: \(out)") }
        return decoded[0]
    }

    @Test(
        "invite through the terminal QR code, safety numbers equal on both sides, a verified sender",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .enabled(
            if: getuid() == 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/zbarimg"),
            "zbarimg is missing and this is not root: install zbar-tools (scripts/install-deps.sh --tests)"),
        .timeLimit(.minutes(2)))
    func inviteVerifyAndTrust() async throws {
        let root = try makeScratchDir("people")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b"].map { try Daemon.forTest($0, root: root, group: group, port: port) }
        let (a, b) = (nodes[0], nodes[1])
        try await withDaemons(nodes) {
            for d in nodes { try await d.start() }
            let (idA, idB) = (try await a.id(), try await b.id())
            let cli = try Binaries.daemon().replacingOccurrences(of: "/estafetted", with: "/estafette")

            // A prints an invite: the line, a blank line, the QR code.
            let printed = try runChecked(cli, ["--socket", a.socket, "invite", "--name", "Zoé M."])
            let lines = printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let line = lines[0]
            #expect(line.hasPrefix("estafette:invite?v=1&id=\(idA)&name=Zo%C3%A9%20M.&c="), "\(printed)")
            let qr = Array(lines.dropFirst(2).prefix { !$0.isEmpty })
            #expect(try Self.decodeQR(qr, dir: root) == line)

            // B: a damaged copy is refused with a clear error; the scanned one is added.
            let damaged = try runCommand(
                cli, ["--socket", b.socket, "contacts", "add", "zoe", line.replacingOccurrences(of: "Zo", with: "Za")])
            #expect(damaged.exitCode == 1)
            #expect(damaged.output.contains("damaged"), "\(damaged.output)")
            let added = try runChecked(cli, ["--socket", b.socket, "contacts", "add", "zoe", line])
            #expect(added.contains("Added contact zoe."), "\(added)")
            #expect(added.contains("Name in their invite: Zoé M."), "\(added)")
            _ = try await a.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: idB), as: ContactAdded.self)

            // The same safety number on both sides, through the CLI.
            let fromA = try JSONDecoder().decode(
                SafetyNumberInfo.self,
                from: Data(try runChecked(cli, ["--socket", a.socket, "--json", "contacts", "safety-number", "bob"]).utf8))
            let fromB = try JSONDecoder().decode(
                SafetyNumberInfo.self,
                from: Data(try runChecked(cli, ["--socket", b.socket, "--json", "contacts", "safety-number", "zoe"]).utf8))
            #expect(fromA.safety_number == fromB.safety_number)
            #expect(fromA.safety_number.split(separator: " ").count == 12)
            #expect(!fromB.verified)

            // B verifies A; A's message then reaches B's inbox and watch as from a verified contact.
            #expect(try runChecked(cli, ["--socket", b.socket, "contacts", "verify", "zoe"]).contains("verified"))
            let listed = try await b.call(RPC.Method.contactsList, Empty(), as: ContactsList.self).contacts
            #expect(listed == [Contact(name: "zoe", id: idA, verified: true)])
            let watchB = try await Watcher(b)
            defer { watchB.cancel() }
            for d in nodes { try await waitUntil("\(d.name) sees a peer") { try await d.status().peers >= 1 } }
            let sent = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "bob", text: "c'est bien moi"), as: MessageSent.self)
            try await waitUntil("B's subscription gets A's message") {
                watchB.received.contains { $0.message_id == sent.message_id }
            }
            #expect(watchB.received.first { $0.message_id == sent.message_id }?.sender == "verified")
            let got = try #require(try await b.inbox().first { $0.message_id == sent.message_id })
            #expect(got.sender == "verified")
            #expect(got.from_name == "zoe")
            // Forgotten, A is unknown again.
            _ = try await b.call(RPC.Method.contactsRemove, ContactsRemoveParams(name: "zoe"), as: OK.self)
            #expect(try await b.inbox().first { $0.message_id == sent.message_id }?.sender == "unknown")
            for d in nodes { await d.stopCleanly() }
        }
    }
}
