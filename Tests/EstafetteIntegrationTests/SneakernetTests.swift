import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// Two daemons on two islands with no network path between them (different multicast groups and ports, no relay
/// link): a bundle exported on one and imported on the other carries the message; a damaged bundle carries
/// nothing; the same bundle twice adds nothing. Also what only the daemon process shows about the relay parts:
/// the link key file's mode, the refusal of one others can read, the `[relay]` keys in use.
@Suite("Sneakernet between two islands", .serialized)
struct SneakernetTests {
    @Test(
        "export on one island, import on the other: the recipient reads the message; a flipped byte is refused",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(10)))
    func sneakernet() async throws {
        let root = try makeScratchDir("sneakernet")
        defer { removeScratchDir(root) }
        let (groupA, portA) = randomGroupAndPort()
        var (groupB, portB) = randomGroupAndPort()
        while groupB == groupA || portB == portA { (groupB, portB) = randomGroupAndPort() }
        let a = try Daemon.forTest("island-a", root: root, group: groupA, port: portA)
        let b = try Daemon.forTest("island-b", root: root, group: groupB, port: portB)
        // B is a relay (listening on loopback only) that links nowhere: the relay keys are read and shown.
        let relayPort = 20_000 + Int.random(in: 0..<20_000)
        try appendConfig(b, "\n[relay]\nenabled = true\nlisten = \"127.0.0.1:\(relayPort)\"\nmax_bytes = 8_388_608\n")
        try await withDaemons([a, b]) {
            try await a.start()
            try await b.start()
            let idB = try await b.id()
            let sent = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: idB, text: "the bridge is open"), as: MessageSent.self)

            let stick = root + "/stick.bundle"
            let exported = try await a.call(
                RPC.Method.storeExport, StoreExportParams(path: stick), as: StoreExported.self)
            #expect(exported.envelopes == 1)
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: stick)))
            #expect(exported.bytes == bytes.count)
            #expect(try mode(stick) == 0o600)

            // A flipped byte: refused whole, nothing imported.
            var flipped = bytes
            flipped[bytes.count / 2] ^= 0x20
            try Data(flipped).write(to: URL(fileURLWithPath: root + "/flipped.bundle"))
            do {
                _ = try await b.call(
                    RPC.Method.storeImport, StoreImportParams(path: root + "/flipped.bundle"), as: StoreImported.self)
                Issue.record("a damaged bundle was imported")
            } catch RPCClientError.remote(let e) {
                #expect(e.code == RPC.ErrorCode.badBundle)
                #expect(e.message.contains("nothing was imported"), "\(e.message)")
            }
            #expect(try await b.status().envelopes == 0)

            let imported = try await b.call(
                RPC.Method.storeImport, StoreImportParams(path: stick), as: StoreImported.self)
            #expect(imported == StoreImported(imported: 1, duplicates: 0, refused: 0))
            let inbox = try await b.inbox()
            #expect(inbox.map(\.message_id) == [sent.message_id])
            #expect(inbox.first?.text == "the bridge is open")
            let again = try await b.call(RPC.Method.storeImport, StoreImportParams(path: stick), as: StoreImported.self)
            #expect(again == StoreImported(imported: 0, duplicates: 1, refused: 0))
            #expect(try await b.inbox().count == 1)

            // No network path: the islands never heard each other.
            #expect(try await a.status().peers == 0)
            #expect(try await b.status().peers == 0)
            #expect(try await b.status().counters["envelopes_imported"] == 1)
            // The imported message was for B: B's node acknowledges it with a receipt, stored next to it.
            try await waitUntil("B stores its receipt") {
                let s = try await b.status()
                return s.counters["receipts_sent"] == 1 && s.relay?.envelopes == 2
            }
            let relay = try #require(try await b.status().relay)
            #expect(relay.enabled && relay.quota == 8_388_608 && relay.envelopes == 2)
            #expect(try await a.status().relay?.enabled == false)

            // The receipt goes back by hand too: A's message is delivered once A imports B's bundle.
            let deliveryStatus = { try await a.call(
                RPC.Method.messagesStatus, MessagesStatusParams(message_id: sent.message_id), as: MessageStatus.self) }
            #expect(try await deliveryStatus().status == DeliveryStatus.sent)
            let back = root + "/back.bundle"
            _ = try await b.call(RPC.Method.storeExport, StoreExportParams(path: back), as: StoreExported.self)
            let returned = try await a.call(RPC.Method.storeImport, StoreImportParams(path: back), as: StoreImported.self)
            #expect(returned == StoreImported(imported: 1, duplicates: 1, refused: 0))
            #expect(try await deliveryStatus().status == DeliveryStatus.delivered)
            #expect(try await a.inbox().isEmpty, "a receipt is never shown")

            // The link key: mode 0600, shown in hex, not the identity.
            let info = try await b.call(RPC.Method.identityShow, Empty(), as: IdentityInfo.self)
            #expect(info.link_key?.count == 64)
            #expect(try mode(b.dataDir + "/link.key") == 0o600)
            await a.stopCleanly()
            await b.stopCleanly()

            // A link key others may read stops the daemon, with the reason.
            #expect(chmod(b.dataDir + "/link.key", 0o644) == 0)
            let (status, output) = try await runDaemonToExit(["--config", b.configPath])
            #expect(status == 78, "output: \(output)")
            #expect(output.contains("link.key: the link key is readable or writable by others"), "output: \(output)")
            #expect(output.contains("chmod 600"))
        }
    }

    func appendConfig(_ d: Daemon, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: d.configPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }
}
