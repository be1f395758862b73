import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// Relay links between two LAN islands (`RelayTopology`): A on LAN1, B on LAN2, relays R1 (listening) and R2
/// (linking to R1 through a router). Relay flags are the daemon's interim `--relay-listen` / `--relay`.
@Suite("Relay links between two LANs in network namespaces", .serialized)
struct RelayNamespaceTests {
    static let r1Listen = "10.214.9.2:4546"

    @Test(
        "A on LAN1 reaches B on LAN2 through R1 and R2, online and offline; wrong pin refused; nothing in clear",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(10)))
    func acrossTwoRelays() async throws {
        let topo = try RelayTopology.create()
        defer { topo.teardown() }
        let root = try makeScratchDir("relay")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        func daemon(_ name: String, interface: String = "eth0", group g: String = group) throws -> Daemon {
            try Daemon.forTest(name, root: root, group: g, port: port, interface: interface, prefix: topo.prefix(name))
        }
        let a = try daemon("a")
        let b = try daemon("b")
        let r1 = try daemon("r1")
        let r2 = try daemon("r2")
        r1.extraArguments = ["--relay-listen", Self.r1Listen]
        try await withDaemons([a, b, r1, r2]) {
            try await r1.start()
            let idR1 = try await r1.id()
            r2.extraArguments = ["--relay", "\(idR1)@\(Self.r1Listen)"]
            let capture = try LinkCapture(
                namespace: topo.router, interface: "w1", path: root + "/relay-link.raw")
            defer { _ = capture.stop() }
            for d in [r2, a, b] { try await d.start() }
            let (idA, idB, idR2) = (try await a.id(), try await b.id(), try await r2.id())
            for r in [r1, r2] {
                try await waitUntil("\(r.name) has a live relay link") {
                    try await r.status().counters["relay.links_live", default: 0] >= 1
                }
            }

            // 1. B online: A's message crosses LAN1 → R1 → R2 → LAN2.
            let text1 = "across the relays, while B listens"
            let t0 = monoNanos()
            let sent1 = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: idB, text: text1), as: MessageSent.self)
            do {
                try await waitUntil("B receives A's message through R1 and R2") {
                    try await b.inbox().contains { $0.message_id == sent1.message_id && $0.text == text1 }
                }
            } catch {
                for d in [a, r1, r2, b] {
                    let s = try await d.status()
                    print(
                        "\(d.name): envelopes \(s.envelopes) peers \(s.peers) \(s.counters.filter { $0.key.hasPrefix("relay") || $0.key.hasPrefix("envelopes") })"
                    )
                }
                throw error
            }
            print("relay end-to-end: A→R1→R2→B in \(String(format: "%.2f", secondsSince(t0))) s")
            #expect(try await r1.inbox().isEmpty, "R1 cannot read the message")
            #expect(try await r2.inbox().isEmpty, "R2 cannot read the message")

            // 2. B offline when A sends; R2 holds the envelope; B starts later and gets it from R2.
            await b.stopCleanly()
            let text2 = "sent while B was away"
            let sent2 = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: idB, text: text2), as: MessageSent.self)
            try await waitUntil("R2 stores the envelope for absent B") {
                try await r2.status().envelopes >= 2
            }
            try await b.start()
            try await waitUntil("B, started later, receives the message from R2") {
                try await b.inbox().contains { $0.message_id == sent2.message_id && $0.text == text2 }
            }

            // 3. A client pinning the wrong key (A's identity) for R1's address is refused and gets nothing.
            let p = try daemon("p", interface: "lo", group: "239.192.77.77")
            p.extraArguments = ["--relay", "\(idA)@\(Self.r1Listen)"]
            try await p.start()
            try await waitUntil("the wrong pin is refused") {
                try await p.status().counters["relay.refused", default: 0] >= 1
            }
            #expect(try await p.status().envelopes == 0)
            #expect(try await p.status().counters["relay.links_live", default: 0] == 0)
            #expect(p.logTail(200).contains("handshake_refused"))
            await p.stopCleanly()

            // 4. What crossed the relay link: no text, no envelope ID, no identity key in the clear.
            let wire = capture.stop()
            #expect(wire.count > 2_000, "the capture saw the link (\(wire.count) bytes)")
            for (what, needle) in [
                ("message text 1", Array(text1.utf8)), ("message text 2", Array(text2.utf8)),
                ("envelope ID 1", hexToBytes(sent1.message_id)), ("envelope ID 2", hexToBytes(sent2.message_id)),
                ("A's key", keyBytes(ofID: idA)), ("B's key", keyBytes(ofID: idB)),
                ("R1's key", keyBytes(ofID: idR1)), ("R2's key", keyBytes(ofID: idR2)),
            ] {
                #expect(needle.count >= 16)
                #expect(!wire.contains(subsequence: needle), "\(what) is in the clear on the relay link")
            }
            for d in [a, b, r1, r2] { await d.stopCleanly() }
        }
    }

    @Test(
        "SIGKILL of a relay mid-sync loses no acknowledged envelope, and the sync completes after a restart",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(10)))
    func sigkillMidSync() async throws {
        let topo = try RelayTopology.create()
        defer { topo.teardown() }
        let root = try makeScratchDir("relaykill")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        func daemon(_ name: String) throws -> Daemon {
            try Daemon.forTest(name, root: root, group: group, port: port, interface: "eth0", prefix: topo.prefix(name))
        }
        let (a, r1, r2) = (try daemon("a"), try daemon("r1"), try daemon("r2"))
        r1.extraArguments = ["--relay-listen", Self.r1Listen]
        // Exactly `count` envelopes to sync: R1 does not answer A's messages with receipts.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: r1.configPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n[messages]\nreceipts = false\n".utf8))
        try handle.close()
        try await withDaemons([a, r1, r2]) {
            try await r1.start()
            try await a.start()
            let idR1 = try await r1.id()
            // R1 fills up from A over LAN1 while R2 is down. The LAN takes at most 1,800 new envelopes a minute
            // from one source (300 at once; docs/security.md, property 2), so A's burst reaches R1 over a minute.
            let count = 1_000
            try await a.client.withConnection { conn in
                for i in 0..<count {
                    let req = RPCRequest(
                        id: .int(Int64(i)), method: RPC.Method.messagesSend,
                        params: try JSONValue.from(MessagesSendParams(to: idR1, text: "bulk \(i)")))
                    try await conn.sendLine(String(decoding: try JSONEncoder().encode(req), as: UTF8.self))
                }
                var answered = 0
                while answered < count, let incoming = try await conn.next() {
                    if case .response = incoming { answered += 1 }
                }
            }
            try await waitUntil("R1 holds all \(count)", timeout: 240) { try await r1.status().envelopes >= count }

            // R2 links and syncs; it is killed once it holds a fifth (some are acknowledged by then, not all).
            r2.extraArguments = ["--relay", "\(idR1)@\(Self.r1Listen)"]
            try await r2.start()
            // Polled without a pause, to catch it in the middle.
            var atKill = 0
            let t0 = monoNanos()
            while atKill < count / 5 && secondsSince(t0) < 120 {
                atKill = (try? await r2.status().envelopes) ?? 0
            }
            r2.kill9()
            #expect(atKill > 0, "R2 received nothing within 120 s")
            try await waitUntil("R1 sees the link drop") {
                try await r1.status().counters["relay.links_live", default: 0] == 0
            }
            let acked = Int(try await r1.status().counters["relay.envelopes_acked", default: 0])
            print("relay SIGKILL: R2 held \(atKill) of \(count) at the kill; R1 had \(acked) acknowledged")
            #expect(acked > 0)
            #expect(acked < count, "the kill came after the sync had finished: not a mid-sync kill")

            // Restarted without its link: every acknowledged envelope is in R2's store.
            r2.extraArguments = []
            try await r2.start()
            let kept = try await r2.status().envelopes
            #expect(kept >= acked, "R2 lost acknowledged envelopes: \(kept) < \(acked)")
            await r2.stopCleanly()

            // With its link again, the sync completes.
            r2.extraArguments = ["--relay", "\(idR1)@\(Self.r1Listen)"]
            try await r2.start()
            try await waitUntil("R2 completes the sync", timeout: 120) { try await r2.status().envelopes >= count }
            #expect(try await r2.status().envelopes == count)
            for d in [a, r1, r2] { await d.stopCleanly() }
        }
    }
}
