import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

@Suite("Three daemons on one host, over loopback multicast", .serialized)
struct LoopbackMeshTests {
    @Test(
        "direct message, alert, 20 KB message, catch-up and restart",
        .enabled(
            if: Loopback.multicastReady,
            "multicast is off on lo and this test is not root: run `ip link set lo multicast on` as root"),
        .timeLimit(.minutes(10)))
    func meshOnLoopback() async throws {
        let root = try makeScratchDir("loopback")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b", "c"].map { try Daemon.forTest($0, root: root, group: group, port: port) }
        // A node that never existed before the messages were sent catches up on everything unexpired.
        let late = try Daemon.forTest("late", root: root, group: group, port: port)
        try await withDaemons(nodes + [late]) {
            try await runMeshScenario(nodes[0], nodes[1], nodes[2])
            try await late.start()
            let target = try await nodes[0].status().envelopes
            try await waitUntil("the late node holds every envelope") { try await late.status().envelopes == target }
            let alerts = try await late.inbox().filter { $0.kind == "alert" }.map(\.text).sorted()
            #expect(alerts == ["checkpoint on the north bridge", "second alert"])
            await late.stopCleanly()
            for d in nodes { await d.stopCleanly() }
        }
    }
}
