import EstafetteAPI
import Foundation
import Testing

/// Multicast on `lo` needs the MULTICAST flag, which only root can set. Checked (and set) once.
enum Loopback {
    static let multicastReady: Bool = {
        if flags() & 0x1000 != 0 { return true }  // IFF_MULTICAST
        guard Privileges.isRoot else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        if !FileManager.default.fileExists(atPath: "/usr/sbin/ip") {
            p.executableURL = URL(fileURLWithPath: "/sbin/ip")
        }
        p.arguments = ["link", "set", "lo", "multicast", "on"]
        try? p.run()
        p.waitUntilExit()
        return flags() & 0x1000 != 0
    }()

    static func flags() -> Int {
        guard let s = try? String(contentsOfFile: "/sys/class/net/lo/flags", encoding: .utf8) else { return 0 }
        return Int(s.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16) ?? 0
    }
}

@Suite("Three daemons on one host, over loopback multicast", .serialized)
struct LoopbackMeshTests {
    @Test(
        "direct message, alert, 20 KB message, catch-up and restart",
        .enabled(
            if: Loopback.multicastReady,
            "multicast is off on lo and this test is not root: run `ip link set lo multicast on` as root"),
        .timeLimit(.minutes(3)))
    func meshOnLoopback() async throws {
        let root = try makeScratchDir("loopback")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b", "c"].map {
            try Daemon(name: $0, root: root, group: group, port: port, interface: "lo")
        }
        do {
            try await runMeshScenario(nodes[0], nodes[1], nodes[2])

            // A node that never existed before the messages were sent catches up on everything unexpired.
            let late = try Daemon(name: "late", root: root, group: group, port: port, interface: "lo")
            try await late.start()
            let target = try await nodes[0].status().envelopes
            try await waitUntil("the late node holds every envelope") { try await late.status().envelopes == target }
            let alerts = try await late.inbox().filter { $0.kind == "alert" }.map(\.text).sorted()
            #expect(alerts == ["checkpoint on the north bridge", "second alert"])
            try await late.stop()
            for d in nodes { try await d.stop() }
        } catch {
            for d in nodes { print("---- \(d.name) log ----\n\(d.logTail(40))") }
            for d in nodes { d.kill9() }
            throw error
        }
    }
}
