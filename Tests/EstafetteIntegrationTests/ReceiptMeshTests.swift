import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

/// Delivery receipts between two real daemons over loopback multicast: a message to a node that is up turns
/// delivered; one to a node that is down stays sent until that node starts and receives it.
@Suite("Delivery receipts, two daemons over loopback multicast", .serialized)
struct ReceiptMeshTests {
    static func status(_ d: Daemon, _ id: String) async throws -> MessageStatus {
        try await d.call(RPC.Method.messagesStatus, MessagesStatusParams(message_id: id), as: MessageStatus.self)
    }

    /// Beacon rounds the daemon went through (sent or suppressed): a clock in protocol time.
    static func rounds(_ d: Daemon) async throws -> Int64 {
        let c = try await d.status().counters
        return c["beacons_sent", default: 0] + c["beacons_suppressed", default: 0]
    }

    @Test(
        "with B up, A's message turns delivered; with B down it stays sent until B starts",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(3)))
    func deliveredWhenReceived() async throws {
        let root = try makeScratchDir("receipts")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b"].map { try Daemon.forTest($0, root: root, group: group, port: port) }
        let (a, b) = (nodes[0], nodes[1])
        try await withDaemons(nodes) {
            for d in nodes { try await d.start() }
            let idB = try await b.id()
            for d in nodes { try await waitUntil("\(d.name) sees a peer") { try await d.status().peers >= 1 } }

            // B up: sent, then delivered once B's receipt comes back.
            let t0 = monoNanos()
            let first = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: idB, text: "are you there?"), as: MessageSent.self)
            try await waitUntil("A's message is delivered") {
                try await Self.status(a, first.message_id).status == DeliveryStatus.delivered
            }
            let upSeconds = secondsSince(t0)
            print("receipts: send → delivered with B up: \(String(format: "%.3f", upSeconds)) s")
            #expect(try await Self.status(a, first.message_id).delivered_at != nil)
            #expect(try await b.inbox().map(\.text) == ["are you there?"], "B shows the message, never the receipt")
            #expect(try await a.inbox().isEmpty, "A shows no receipt")
            #expect(try await b.status().counters["receipts_sent"] == 1)
            #expect(try await a.status().counters["receipts_received"] == 1)

            // B down: the message stays sent while A goes through three beacon rounds alone.
            await b.stopCleanly()
            let t1 = monoNanos()
            let second = try await a.call(
                RPC.Method.messagesSend, MessagesSendParams(to: idB, text: "while you were away"),
                as: MessageSent.self)
            let roundsBefore = try await Self.rounds(a)
            try await waitUntil("A goes through three beacon rounds", timeout: 40) {
                try await Self.rounds(a) >= roundsBefore + 3
            }
            #expect(try await Self.status(a, second.message_id) == MessageStatus(status: DeliveryStatus.sent))

            // B starts: it receives the message by repair and acknowledges it.
            let t2 = monoNanos()
            try await b.start()
            try await waitUntil("A's second message is delivered after B starts", timeout: 60) {
                try await Self.status(a, second.message_id).status == DeliveryStatus.delivered
            }
            print(
                "receipts: B start → delivered: \(String(format: "%.3f", secondsSince(t2))) s "
                    + "(send → delivered, B down for part of it: \(String(format: "%.3f", secondsSince(t1))) s)")
            let sent = try await a.call(RPC.Method.messagesSent, MessagesSentParams(), as: SentList.self).messages
            #expect(Set(sent.map(\.message_id)) == [first.message_id, second.message_id])
            #expect(sent.allSatisfy { $0.status == DeliveryStatus.delivered && $0.to == idB })
            #expect(Set(try await b.inbox().map(\.text)) == ["are you there?", "while you were away"])
            for d in nodes { await d.stopCleanly() }
        }
    }
}
