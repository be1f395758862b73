import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

@Suite("Pipelined sends over one connection", .serialized)
struct PipelinedSendTests {
    @Test(
        "300 pipelined sends are answered by id, committed in groups, and all arrive",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"),
        .timeLimit(.minutes(5)))
    func pipelinedSends() async throws {
        let root = try makeScratchDir("pipeline")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let a = try Daemon.forTest("a", root: root, group: group, port: port)
        let b = try Daemon.forTest("b", root: root, group: group, port: port)
        try await withDaemons([a, b]) {
            try await a.start()
            try await b.start()
            let idB = try await b.id()
            let count = 300
            let answers = try await a.client.withConnection { conn -> [Int64: String] in
                // Write every request before reading any answer.
                for i in 0..<count {
                    let req = RPCRequest(
                        id: .int(Int64(i)), method: RPC.Method.messagesSend,
                        params: try JSONValue.from(MessagesSendParams(to: idB, text: "message \(i)")))
                    try await conn.sendLine(String(decoding: try JSONEncoder().encode(req), as: UTF8.self))
                }
                var answers: [Int64: String] = [:]
                while answers.count < count, let incoming = try await conn.next() {
                    guard case .response(let r) = incoming, case .int(let id) = r.id else { continue }
                    #expect(r.error == nil, "request \(id) failed: \(String(describing: r.error))")
                    answers[id] = r.result?["message_id"]?.stringValue
                }
                return answers
            }
            #expect(answers.count == count)
            #expect(Set(answers.values).count == count, "every send got its own message_id")
            let status = try await a.status()
            #expect(status.counters["envelopes_stored", default: 0] >= Int64(count))
            #expect(
                status.counters["commits", default: 0] < Int64(count),
                "\(count) sends took \(status.counters["commits", default: 0]) commits: no grouping")
            try await waitUntil("B receives all \(count)") {
                try await b.inbox().count == count
            }
            let texts = Set(try await b.inbox().map(\.text))
            #expect(texts == Set((0..<count).map { "message \($0)" }))
            await a.stopCleanly()
            await b.stopCleanly()
        }
    }
}
