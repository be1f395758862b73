import EstafetteAPI
import EstafetteCore
import Foundation
import Testing

@testable import EstafetteNode

/// relays.add / remove / list, identity.show's link_key, node.status's relay object, store.export and store.import,
/// each a JSON-RPC line through the dispatcher of a node with a real database and no LAN.
@Suite("API relay methods")
struct DispatcherRelayTests {
    static let relayID = Fixture.id(Fixture.carol)
    static let otherID = Fixture.id(Fixture.bob)

    @Test("identity.show gives the link key: 64 hex digits, the key in link.key, not the identity")
    func linkKey() async throws {
        try await withScratchDir("relayapi") { dir in
            let node = try TestNode(dir: dir)
            let me = try await node.call(RPC.Method.identityShow, as: IdentityInfo.self)
            let key = try #require(me.link_key)
            #expect(key == node.relay.linkKey.publicKeyHex)
            #expect(key.count == 64 && key.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            #expect(try LinkKeyFile.loadOrCreate(path: dir + "/link.key").keys.publicKeyHex == key)
            #expect(key != Fixture.alice.boxPublicKey.bytes.map { String(format: "%02x", $0) }.joined())
        }
    }

    @Test("relays.add, list (config and API relays, idle until linked), remove; kept across a restart")
    func relays() async throws {
        try await withScratchDir("relayapi") { dir in
            var config = NodeConfig(dataDir: dir, socketPath: dir + "/api.sock")
            config.relays = [
                RelayEndpoint(address: HostPort("10.0.0.1:4546")!, id: try PublicID(parsing: Self.otherID))
            ]
            let node = try TestNode(dir: dir, config: config)
            let add = RelaysAddParams(address: "relay.example.org:4546", id: Self.relayID.uppercased())
            #expect(try await node.call(RPC.Method.relaysAdd, add, as: OK.self).ok)
            #expect(try await node.call(RPC.Method.relaysAdd, add, as: OK.self).ok, "adding it again is a no-op")
            let raw = try #require(await node.answer(TestNode.line(RPC.Method.relaysList, Empty())))
            #expect(raw.contains("\"last_sync\":null"), "last_sync is listed, null before a sync: \(raw)")
            let list = try await node.call(RPC.Method.relaysList, as: RelaysList.self)
            #expect(
                list.relays == [
                    RelayInfo(
                        address: "10.0.0.1:4546", id: Self.otherID, state: "idle", last_sync: nil, envelopes_sent: 0,
                        envelopes_received: 0, source: "config"),
                    RelayInfo(
                        address: "relay.example.org:4546", id: Self.relayID, state: "idle", last_sync: nil,
                        envelopes_sent: 0, envelopes_received: 0, source: "api"),
                ])
            // The quota knows the pinned relays' keys.
            let pinned = try Fixture.carol.publicKey.boxPublicKey().bytes
            #expect(node.relay.quota.policy.pinnedKeys.contains(pinned))

            let restarted = try TestNode(dir: dir, config: config)
            #expect(try await restarted.call(RPC.Method.relaysList, as: RelaysList.self) == list)
            #expect(
                try await restarted.call(
                    RPC.Method.relaysRemove, RelaysRemoveParams(address: "relay.example.org:4546"), as: OK.self
                ).ok)
            #expect(try await restarted.call(RPC.Method.relaysList, as: RelaysList.self).relays.count == 1)
            #expect(!restarted.relay.quota.policy.pinnedKeys.contains(pinned))
        }
    }

    @Test(
        "relays.add and relays.remove say what is wrong",
        arguments: [
            (
                RPC.Method.relaysAdd, ["address": "nohost", "id": DispatcherRelayTests.relayID], -32022,
                "'nohost' is not host:port"
            ),
            (RPC.Method.relaysAdd, ["address": "r:1", "id": "es1nope"], -32002, "'es1nope' is not an Estafette ID"),
            (
                RPC.Method.relaysAdd, ["address": "10.0.0.1:4546", "id": DispatcherRelayTests.relayID], -32021,
                "10.0.0.1:4546 is set in the config file with ID"
            ),
            (RPC.Method.relaysRemove, ["address": "10.0.0.1:4546"], -32021, "10.0.0.1:4546 is set in the config file"),
            (RPC.Method.relaysRemove, ["address": "r:9"], -32020, "no relay at 'r:9'"),
            (RPC.Method.relaysAdd, ["address": "r:1"], -32602, "params: missing 'id'"),
        ])
    func relayErrors(method: String, params: [String: String], code: Int, message: String) async throws {
        try await withScratchDir("relayapi") { dir in
            var config = NodeConfig(dataDir: dir, socketPath: dir + "/api.sock")
            config.relays = [
                RelayEndpoint(address: HostPort("10.0.0.1:4546")!, id: try PublicID(parsing: Self.otherID))
            ]
            let node = try TestNode(dir: dir, config: config)
            let error = try await node.error(method, params)
            #expect(error.code == code)
            #expect(error.message.hasPrefix(message), "got: \(error.message)")
        }
    }

    @Test("relays.add with another ID for a listed address is refused until it is removed")
    func relayConflict() async throws {
        try await withScratchDir("relayapi") { dir in
            let node = try TestNode(dir: dir)
            _ = try await node.call(
                RPC.Method.relaysAdd, RelaysAddParams(address: "r:1", id: Self.relayID), as: OK.self)
            let e = try await node.error(RPC.Method.relaysAdd, RelaysAddParams(address: "r:1", id: Self.otherID))
            #expect(
                e
                    == RPCErrorObject(
                        code: -32021, message: "r:1 is already listed with ID \(Self.relayID); remove it first"))
        }
    }

    @Test("node.status has a relay object: off by default, the stored envelopes and bytes, the quota")
    func status() async throws {
        try await withScratchDir("relayapi") { dir in
            let node = try TestNode(dir: dir)
            _ = try await node.call(
                RPC.Method.messagesSend, MessagesSendParams(to: Self.otherID, text: "hi"), as: MessageSent.self)
            let status = try await node.call(RPC.Method.nodeStatus, as: NodeStatus.self)
            let relay = try #require(status.relay)
            #expect(!relay.enabled)
            #expect(relay.envelopes == 1)
            #expect(relay.bytes == Int64(try node.store.relayUsage().bytes) && relay.bytes > 0)
            #expect(relay.quota == 1 << 30)
            #expect(relay.evictions == 0 && relay.links == 0 && relay.link_keys == 0)
        }
    }

    @Test("export on one node, import on another with no network between them: the recipient reads the message")
    func exportImport() async throws {
        try await withScratchDir("sneakernet") { dir in
            try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: false)
            try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: false)
            let alice = try TestNode(dir: dir + "/a", identity: Fixture.alice)
            let bob = try TestNode(dir: dir + "/b", identity: Fixture.bob)
            let sent = try await alice.call(
                RPC.Method.messagesSend, MessagesSendParams(to: bob.id, text: "across the river"), as: MessageSent.self)
            let path = dir + "/stick.bundle"
            let exported = try await alice.call(
                RPC.Method.storeExport, StoreExportParams(path: path), as: StoreExported.self)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)
            #expect(exported == StoreExported(envelopes: 1, bytes: size.intValue))
            #expect(try mode(of: path) == 0o600)
            let updates = await bob.subscribe()
            let imported = try await bob.call(
                RPC.Method.storeImport, StoreImportParams(path: path), as: StoreImported.self)
            #expect(imported == StoreImported(imported: 1, duplicates: 0, refused: 0))
            let inbox = try await bob.inbox()
            #expect(inbox.map(\.text) == ["across the river"])
            #expect(inbox.first?.message_id == sent.message_id)
            #expect(inbox.first?.from == alice.id)
            var iterator = updates.makeAsyncIterator()
            #expect(await iterator.next()?.text == "across the river", "subscribers hear of it as of any message")
            // Twice: nothing new.
            let again = try await bob.call(
                RPC.Method.storeImport, StoreImportParams(path: path), as: StoreImported.self)
            #expect(again == StoreImported(imported: 0, duplicates: 1, refused: 0))
            #expect(try await bob.inbox().count == 1)
            #expect(try bob.store.envelopeCount() == 1)
            // --since after everything: an empty, valid bundle.
            let none = try await alice.call(
                RPC.Method.storeExport,
                StoreExportParams(path: dir + "/none.bundle", since: Int64(Date().timeIntervalSince1970) + 60),
                as: StoreExported.self)
            #expect(none.envelopes == 0)
            #expect(
                try await bob.call(
                    RPC.Method.storeImport, StoreImportParams(path: dir + "/none.bundle"), as: StoreImported.self)
                    == StoreImported(imported: 0, duplicates: 0, refused: 0))
        }
    }

    @Test("a flipped byte or a truncated bundle is refused whole with a clear message; nothing is imported")
    func damagedBundles() async throws {
        try await withScratchDir("sneakernet") { dir in
            try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: false)
            try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: false)
            let alice = try TestNode(dir: dir + "/a", identity: Fixture.alice)
            let bob = try TestNode(dir: dir + "/b", identity: Fixture.bob)
            for i in 0..<3 {
                _ = try await alice.call(
                    RPC.Method.messagesSend, MessagesSendParams(to: bob.id, text: "note \(i)"), as: MessageSent.self)
            }
            let path = dir + "/stick.bundle"
            _ = try await alice.call(RPC.Method.storeExport, StoreExportParams(path: path), as: StoreExported.self)
            let good = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            // The last envelope's last byte: the first two envelopes are valid, and still nothing is imported.
            var flipped = good
            flipped[good.count - EnvelopeBundle.trailerBytes - 1] ^= 0x01
            try Data(flipped).write(to: URL(fileURLWithPath: dir + "/flipped.bundle"))
            let e1 = try await bob.error(RPC.Method.storeImport, StoreImportParams(path: dir + "/flipped.bundle"))
            #expect(e1.code == -32030)
            #expect(e1.message.contains("checksum does not match") && e1.message.hasSuffix("nothing was imported"))
            try Data(good.prefix(good.count - 10)).write(to: URL(fileURLWithPath: dir + "/cut.bundle"))
            let e2 = try await bob.error(RPC.Method.storeImport, StoreImportParams(path: dir + "/cut.bundle"))
            #expect(e2.code == -32030)
            #expect(e2.message.contains("truncated"))
            #expect(try bob.store.envelopeCount() == 0)
            #expect(try await bob.inbox().isEmpty)
            let missing = try await bob.error(RPC.Method.storeImport, StoreImportParams(path: dir + "/nothing"))
            #expect(missing.code == -32031)
            let relative = try await bob.error(RPC.Method.storeImport, StoreImportParams(path: "stick.bundle"))
            #expect(relative.code == -32602)
            let inData = try await alice.error(RPC.Method.storeExport, StoreExportParams(path: dir + "/a/x.bundle"))
            #expect(
                inData == RPCErrorObject(code: -32602, message: "path must not be inside the daemon's data directory"))
            let dotted = try await alice.error(
                RPC.Method.storeExport, StoreExportParams(path: dir + "/b/../a/estafette.sqlite"))
            #expect(dotted.code == -32602, "'..' does not get around the data directory check")
            #expect(mkfifo(dir + "/fifo", 0o600) == 0)
            let fifo = try await bob.error(RPC.Method.storeImport, StoreImportParams(path: dir + "/fifo"))
            #expect(fifo.code == -32031, "a FIFO is refused, without waiting for a writer")
            let noDir = try await alice.error(
                RPC.Method.storeExport, StoreExportParams(path: dir + "/no/such/x.bundle"))
            #expect(noDir.code == -32031)
        }
    }

    @Test("an envelope in a valid bundle that fails validation is counted as refused; the rest are imported")
    func refusedEnvelopes() async throws {
        try await withScratchDir("sneakernet") { dir in
            try FileManager.default.createDirectory(atPath: dir + "/n", withIntermediateDirectories: false)
            let node = try TestNode(dir: dir + "/n")
            var w = EnvelopeBundle.Writer()
            var bytes = w.start()
            let expired = Envelope(kind: .channel, expiresAt: 1000, body: [1, 2, 3]).encoded()
            let fine = Envelope(
                kind: .channel, expiresAt: UInt64(Date().timeIntervalSince1970) + 3600, body: [4, 5, 6]
            ).encoded()
            bytes += w.append(expired) + w.append([0xFF, 0x00]) + w.append(fine)
            bytes += w.finish()
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/mixed.bundle"))
            let r = try await node.call(
                RPC.Method.storeImport, StoreImportParams(path: dir + "/mixed.bundle"), as: StoreImported.self)
            #expect(r == StoreImported(imported: 1, duplicates: 0, refused: 2))
            #expect(try node.store.envelopeCount() == 1)
        }
    }
}
