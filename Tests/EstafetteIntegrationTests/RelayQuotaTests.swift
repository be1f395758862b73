import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// A relay's quota against a flooding link, with real daemons (issue 11, "Quota"): each daemon on a LAN group of
/// its own on loopback, so that only the relay links join them.
@Suite("A relay's share per link key, against a flooding link", .serialized)
struct RelayQuotaTests {
    @Test(
        "a link that floods a 1 MiB relay fills its share and stops there; an honest link's mail is kept and served",
        .enabled(
            if: Loopback.multicastReady,
            "multicast is off on lo and this test is not root: run `ip link set lo multicast on` as root"),
        .timeLimit(.minutes(5)))
    func floodingLinkKeepsToItsShare() async throws {
        let root = try makeScratchDir("relayquota")
        defer { removeScratchDir(root) }
        func daemon(_ name: String) throws -> Daemon {
            let (group, port) = randomGroupAndPort()
            return try Daemon.forTest(name, root: root, group: group, port: port)
        }
        let (relay, flooder, honest, reader) = (try daemon("r"), try daemon("f"), try daemon("h"), try daemon("c"))
        let listen = "127.0.0.1:\(Int.random(in: 20_000...60_000))"
        // 1 MiB, anyone may link: a link key nobody listed gets 1/32 of it (docs/relays.md, "A share per link key").
        try appendLine(
            relay.configPath, "\n[relay]\nenabled = true\nlisten = \"\(listen)\"\nmax_bytes = 1048576")
        // The reader acknowledges nothing, so the relay holds only what the two senders brought.
        try appendLine(reader.configPath, "\n[messages]\nreceipts = false")
        let share: Int64 = 1_048_576 / 32
        try await withDaemons([relay, flooder, honest, reader]) {
            for d in [relay, flooder, honest, reader] { try await d.start() }
            let (idR, idC) = (try await relay.id(), try await reader.id())
            let filler = String(repeating: "x", count: 1_000)

            // The flooder holds 120 messages for C (about 150 KB: five times its share) and links.
            try await flooder.client.withConnection { conn in
                for i in 0..<120 {
                    _ = try await conn.call(
                        RPC.Method.messagesSend, MessagesSendParams(to: idC, text: "flood \(i) \(filler)"),
                        as: MessageSent.self)
                }
            }
            _ = try await flooder.call(
                RPC.Method.relaysAdd, RelaysAddParams(address: listen, id: idR), as: OK.self)
            try await waitUntil("the relay refuses the flood beyond its share", timeout: 60) {
                (try await relay.status().relay?.refused_over_share ?? 0) >= 1
            }

            // Then an honest link brings five messages for C, and C links to read them.
            var honestIDs: Set<String> = []
            for i in 0..<5 {
                let sent = try await honest.call(
                    RPC.Method.messagesSend, MessagesSendParams(to: idC, text: "honest \(i) \(filler)"),
                    as: MessageSent.self)
                honestIDs.insert(sent.message_id)
            }
            _ = try await honest.call(
                RPC.Method.relaysAdd, RelaysAddParams(address: listen, id: idR), as: OK.self)
            _ = try await reader.call(
                RPC.Method.relaysAdd, RelaysAddParams(address: listen, id: idR), as: OK.self)
            try await waitUntil("C reads all five honest messages through the relay", timeout: 60) {
                Set(try await reader.inbox().map(\.message_id)).isSuperset(of: honestIDs)
            }
            let status = try #require(try await relay.status().relay)
            let floods = try await reader.inbox().filter { $0.text.hasPrefix("flood ") }.count
            print(
                "relay-quota: relay holds \(status.envelopes) envelopes, \(status.bytes) B (share \(share) B); "
                    + "refused over share \(status.refused_over_share); C got \(floods) of the flooder's 120")
            #expect(status.refused_over_share >= 1)
            #expect(status.evictions == 0, "the flood must not evict the honest link's envelopes")
            #expect(status.envelopes == Int64(floods + honestIDs.count), "the relay holds what C got")
            // Every message here seals to the same size: the flooder's bytes stay within its share.
            let each = status.bytes / max(1, status.envelopes)
            #expect(floods >= 1 && Int64(floods) * each <= share, "C got \(floods) of the flood, \(each) B each")
            for d in [relay, flooder, honest, reader] { await d.stopCleanly() }
        }
    }
}
