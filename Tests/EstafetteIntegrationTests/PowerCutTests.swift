import EstafetteAPI
import EstafetteTestKit
import Foundation
import NIOConcurrencyHelpers
import Testing

/// Power cuts (issue 13): a daemon killed with SIGKILL at random moments, while it commits sends as fast as a
/// client asks and syncs from a relay, restarts cleanly every time, keeps every send it acknowledged, and its
/// database passes `PRAGMA integrity_check`.
@Suite("Power cuts: SIGKILL at random moments during traffic and sync", .serialized)
struct PowerCutTests {
    static let sqlite3 = ["/usr/bin/sqlite3", "/bin/sqlite3"].first { FileManager.default.fileExists(atPath: $0) }
    /// `ESTAFETTE_POWER_CUT_ROUNDS` overrides the 100 rounds.
    static let rounds = ProcessInfo.processInfo.environment["ESTAFETTE_POWER_CUT_ROUNDS"].flatMap { Int($0) } ?? 100

    @Test(
        "100 SIGKILLs during sends and a relay sync: every restart is clean, nothing acknowledged is lost",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .enabled(if: PowerCutTests.sqlite3 != nil, "needs the sqlite3 shell (scripts/install-deps.sh --tests)"),
        .timeLimit(.minutes(15)))
    func sigkillRounds() async throws {
        let root = try makeScratchDir("powercut")
        defer { removeScratchDir(root) }
        func daemon(_ name: String) throws -> Daemon {
            let (group, port) = randomGroupAndPort()
            return try Daemon.forTest(name, root: root, group: group, port: port)
        }
        let (victim, relay) = (try daemon("v"), try daemon("r"))
        let listen = "127.0.0.1:\(Int.random(in: 20_000...60_000))"
        relay.extraArguments = ["--relay-listen", listen]
        try await withDaemons([victim, relay]) {
            try await victim.start()
            let idV = try await victim.id()
            await victim.stopCleanly()
            // The relay holds 800 messages for the victim: each round syncs some of them before the cut.
            try await relay.start()
            let idR = try await relay.id()
            // (Fewer than an inbox page, 1,000, so that the victim's inbox shows them all.) And 6,000 for someone
            // else, which the victim only carries: the sync spans many rounds.
            let backlog = 800
            let carried = 6_000
            let stranger = "es1lxmv6776zawdcg2cxphqydhnmd3vxqpvv7vbijsa2y2md3nyfi6jqgsxoq"
            try await relay.client.withConnection { conn in
                for start in stride(from: 0, to: backlog + carried, by: 400) {
                    let end = min(backlog + carried, start + 400)
                    for i in start..<end {
                        let params =
                            i < backlog
                            ? MessagesSendParams(to: idV, text: "backlog \(i)")
                            : MessagesSendParams(to: stranger, text: "carried \(i)")
                        let req = RPCRequest(
                            id: .int(Int64(i)), method: RPC.Method.messagesSend, params: try JSONValue.from(params))
                        try await conn.sendLine(String(decoding: try JSONEncoder().encode(req), as: UTF8.self))
                    }
                    var answered = 0
                    while answered < end - start, let incoming = try await conn.next() {
                        if case .response(let r) = incoming {
                            #expect(r.error == nil, "relay send failed: \(String(describing: r.error))")
                            answered += 1
                        }
                    }
                }
            }
            victim.extraArguments = ["--relay", "\(idR)@\(listen)"]

            let acknowledged = NIOLockedValueBox<[String]>([])
            var rng = SystemRandomNumberGenerator()
            var cutsDuringSync = 0
            for round in 1...Self.rounds {
                try await victim.start()
                // The last send acknowledged before the cut is there, and the database is sound.
                if let last = acknowledged.withLockedValue({ $0.last }) {
                    await #expect(throws: Never.self, "round \(round): \(last) lost") {
                        _ = try await victim.call(
                            RPC.Method.messagesStatus, MessagesStatusParams(message_id: last), as: MessageStatus.self)
                    }
                }
                let check = try runCommand(
                    Self.sqlite3!, [victim.dataDir + "/estafette.sqlite", "PRAGMA integrity_check"], timeout: 60)
                #expect(check.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "round \(round): \(check.output)")
                let before = try await victim.status().envelopes
                // Sends to the relay's node, one after another as fast as they are acknowledged (each after its
                // commit); they go out over the link, and receipts come back.
                let client = victim.client
                let sender = Task {
                    try? await client.withConnection { conn in
                        var i = 0
                        while !Task.isCancelled {
                            let sent = try await conn.call(
                                RPC.Method.messagesSend, MessagesSendParams(to: idR, text: "round \(round) #\(i)"),
                                as: MessageSent.self)
                            acknowledged.withLockedValue { $0.append(sent.message_id) }
                            i += 1
                        }
                    }
                }
                try await Task.sleep(nanoseconds: UInt64.random(in: 30_000_000...600_000_000, using: &rng))
                if before < backlog + carried { cutsDuringSync += 1 }
                victim.kill9()
                sender.cancel()
                _ = await sender.value
            }
            // After the last cut: everything acknowledged is there, and the sync completes.
            try await victim.start()
            let all = acknowledged.withLockedValue { $0 }
            var lost: [String] = []
            try await victim.client.withConnection { conn in
                for id in all {
                    // A send that is not stored answers -32080 (unknown message).
                    do {
                        _ = try await conn.call(
                            RPC.Method.messagesStatus, MessagesStatusParams(message_id: id), as: MessageStatus.self)
                    } catch {
                        lost.append(id)
                    }
                }
            }
            #expect(lost.isEmpty, "\(lost.count) of \(all.count) acknowledged sends lost")
            // Synced: both hold the same set (each side sends what the other lacks), the backlog in the inbox.
            try await waitUntil("the relay sync completes after the last restart", timeout: 120) {
                let (v, r) = (try await victim.status().envelopes, try await relay.status().envelopes)
                return v == r && v >= backlog + carried + all.count
            }
            #expect(try await victim.inbox().filter { $0.text.hasPrefix("backlog ") }.count == backlog)
            print(
                "power-cut: \(Self.rounds) SIGKILLs (\(cutsDuringSync) during the relay sync), \(all.count) sends "
                    + "acknowledged, none lost; integrity_check ok after every cut; the sync completed")
            await victim.stopCleanly()
            await relay.stopCleanly()
        }
    }
}
