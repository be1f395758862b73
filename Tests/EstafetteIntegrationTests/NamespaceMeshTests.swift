import EstafetteTestKit
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three "hosts", each its own network namespace with an `eth0`, joined by a bridge in a fourth namespace.
/// Created and removed by the test; traffic never leaves the namespaces.
struct NamespaceLAN {
    let tag: String
    let hosts: [String]
    var switchNS: String { tag + "sw" }

    static var available: Bool { Privileges.isRoot && FileManager.default.fileExists(atPath: ipPath) }

    /// Runs `ip` to its end (`runCommand`: no Foundation `Process`, no pipes, a deadline).
    static func ip(_ args: String...) throws {
        let r = try runCommand(ipPath, args, timeout: 60)
        if r.exitCode != 0 {
            throw SetupError(description: "ip \(args.joined(separator: " ")) failed: \(r.output)")
        }
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// `name` keeps the namespaces of suites that run at once apart (2 letters). `ipv4: false` makes an IPv6-only
    /// LAN: each `eth0` has only its link-local address. Duplicate address detection is off, so link-local
    /// addresses are usable as soon as the link is up (the daemon would otherwise wait for them).
    static func create(hostCount: Int, name: String = "es", ipv4: Bool = true) throws -> NamespaceLAN {
        let tag = "\(name)\(getpid() % 100_000)"
        let lan = NamespaceLAN(tag: tag, hosts: (1...hostCount).map { "\(tag)h\($0)" })
        lan.teardown()  // leftovers of an earlier crashed run with the same pid
        do {
            try ip("netns", "add", lan.switchNS)
            try ip("-n", lan.switchNS, "link", "set", "lo", "up")
            try ip("-n", lan.switchNS, "link", "add", "br0", "type", "bridge")
            try ip("-n", lan.switchNS, "link", "set", "br0", "up")
            for (i, h) in lan.hosts.enumerated() {
                let port = "\(tag)p\(i + 1)"
                try ip("netns", "add", h)
                try ip("link", "add", "eth0", "netns", h, "type", "veth", "peer", "name", port, "netns", lan.switchNS)
                try ip("-n", lan.switchNS, "link", "set", port, "master", "br0")
                try ip("-n", lan.switchNS, "link", "set", port, "up")
                let dad = try runCommand(
                    ipPath, ["netns", "exec", h, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_dad=0"], timeout: 30)
                if dad.exitCode != 0 { throw SetupError(description: "sysctl accept_dad: \(dad.output)") }
                // With its broadcast address, as DHCP gives one (`brd +`).
                if ipv4 { try ip("-n", h, "addr", "add", "10.213.0.\(i + 1)/24", "brd", "+", "dev", "eth0") }
                try ip("-n", h, "link", "set", "eth0", "up")
                try ip("-n", h, "link", "set", "lo", "up")
            }
        } catch {
            lan.teardown()
            throw error
        }
        return lan
    }

    func teardown() {
        for ns in hosts + [switchNS] {
            _ = try? Self.ip("netns", "del", ns)
        }
    }

    func prefix(_ host: Int) -> [String] {
        [ipPath, "netns", "exec", hosts[host]]
    }
}

@Suite("Three hosts in network namespaces on one bridge", .serialized)
struct NamespaceMeshTests {
    @Test(
        "the mesh exchange across three network namespaces",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(10)))
    func meshAcrossNamespaces() async throws {
        let lan = try NamespaceLAN.create(hostCount: 3)
        defer { lan.teardown() }
        let root = try makeScratchDir("netns")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b", "c"].enumerated().map { i, name in
            try Daemon.forTest(name, root: root, group: group, port: port, interface: "eth0", prefix: lan.prefix(i))
        }
        try await withDaemons(nodes) {
            try await runMeshScenario(nodes[0], nodes[1], nodes[2])
            // Each node saw the others at their namespace addresses, not at loopback.
            let peers = try await nodes[0].call("peers.list", EmptyParams(), as: PeersOnly.self).peers
            #expect(
                Set(peers.map { $0.address.split(separator: ":").first.map(String.init) ?? "" })
                    == ["10.213.0.2", "10.213.0.3"])
            for d in nodes { await d.stopCleanly() }
        }
    }
}

struct EmptyParams: Codable, Sendable {}

struct PeersOnly: Codable, Sendable {
    struct P: Codable, Sendable { let address: String }
    let peers: [P]
}
