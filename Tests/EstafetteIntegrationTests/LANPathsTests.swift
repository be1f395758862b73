import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The paths beside multicast (issue 13, "Every LAN, every path"): subnet broadcast where the access point filters
/// multicast, and static peers over unicast to a node on another subnet. Hosts are network namespaces made by the
/// test; the "access point" is the bridge, filtered with nftables.
@Suite("LAN paths: broadcast where multicast is filtered, static peers on another subnet", .serialized)
struct LANPathsTests {
    static var available: Bool { NamespaceLAN.available && FileManager.default.fileExists(atPath: nftPath) }
    static let nftPath = ["/usr/sbin/nft", "/sbin/nft"].first { FileManager.default.fileExists(atPath: $0) } ?? "nft"

    /// Runs `nft` inside namespace `ns`.
    static func nft(_ ns: String, _ args: [String]) throws -> String {
        let r = try runCommand(ipPath, ["netns", "exec", ns, nftPath] + args, timeout: 30)
        guard r.exitCode == 0 else {
            throw NamespaceLAN.SetupError(description: "nft \(args.joined(separator: " ")) failed: \(r.output)")
        }
        return r.output
    }

    /// A's direct message reaches B; returns the seconds it took.
    static func exchange(_ a: Daemon, _ b: Daemon, within timeout: Double) async throws -> Double {
        let idB = try await b.id()
        _ = try await a.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: idB), as: OK.self)
        let t0 = monoNanos()
        let sent = try await a.call(
            RPC.Method.messagesSend, MessagesSendParams(to: "bob", text: "the assembly moved to the bakery"),
            as: MessageSent.self)
        try await waitUntil("B receives A's message", timeout: timeout) {
            try await b.inbox().contains {
                $0.message_id == sent.message_id && $0.text == "the assembly moved to the bakery"
            }
        }
        return secondsSince(t0)
    }

    @Test(
        "multicast dropped by the access point: two nodes hear each other by subnet broadcast",
        .enabled(if: LANPathsTests.available, "needs root, iproute2 and nftables (scripts/install-deps.sh --tests)"),
        .timeLimit(.minutes(5)))
    func broadcastFallback() async throws {
        let lan = try NamespaceLAN.create(hostCount: 2, name: "eb")
        defer { lan.teardown() }
        // The bridge forwards no IPv4 multicast, as many access points do.
        _ = try Self.nft(lan.switchNS, ["add", "table", "bridge", "ap"])
        _ = try Self.nft(
            lan.switchNS, ["add", "chain", "bridge", "ap", "mcast", "{ type filter hook forward priority 0; }"])
        _ = try Self.nft(lan.switchNS, ["add", "rule", "bridge", "ap", "mcast", "ip", "daddr", "224.0.0.0/4", "counter", "drop"])
        let root = try makeScratchDir("lanpaths")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b"].enumerated().map { i, name in
            try Daemon.forTest(name, root: root, group: group, port: port, interface: "eth0", prefix: lan.prefix(i))
        }
        try await withDaemons(nodes) {
            for d in nodes { try await d.start() }
            // 300 ms beacons: after 14.4 s without a multicast from anyone, each node also broadcasts.
            try await waitUntil("A and B see each other", timeout: 60) {
                let (pa, pb) = (try await nodes[0].status().peers, try await nodes[1].status().peers)
                return pa >= 1 && pb >= 1
            }
            let seconds = try await Self.exchange(nodes[0], nodes[1], within: 30)
            print("lan-paths: broadcast fallback: A → B in \(String(format: "%.2f", seconds)) s")
            let counters = try await nodes[1].status().counters
            #expect(counters["packets_in_broadcast", default: 0] > 0, "B heard nothing by broadcast: \(counters)")
            // The filter really dropped multicast: without the fallback there was no path.
            let rules = try Self.nft(lan.switchNS, ["list", "chain", "bridge", "ap", "mcast"])
            let dropped = rules.split(separator: " ").drop { $0 != "packets" }.dropFirst().first.flatMap { Int($0) }
            #expect((dropped ?? 0) > 0, "the bridge dropped no multicast: \(rules)")
            for d in nodes { await d.stopCleanly() }
        }
    }

    @Test(
        "static peers on two subnets joined by a router, multicast and broadcast stopped at the router",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(5)))
    func staticPeersAcrossSubnets() async throws {
        // A 10.215.1.2/24 — router — B 10.215.2.2/24: no multicast path, no shared subnet.
        let tag = "ep\(getpid() % 100_000)"
        let (ha, hb, rt) = (tag + "a", tag + "b", tag + "r")
        let all = [ha, hb, rt]
        for ns in all { _ = try? NamespaceLAN.ip("netns", "del", ns) }
        defer { for ns in all { _ = try? NamespaceLAN.ip("netns", "del", ns) } }
        for ns in all {
            try NamespaceLAN.ip("netns", "add", ns)
            try NamespaceLAN.ip("-n", ns, "link", "set", "lo", "up")
        }
        for (h, net, rif) in [(ha, "10.215.1", "ra"), (hb, "10.215.2", "rb")] {
            try NamespaceLAN.ip("link", "add", "eth0", "netns", h, "type", "veth", "peer", "name", rif, "netns", rt)
            try NamespaceLAN.ip("-n", rt, "addr", "add", "\(net).1/24", "dev", rif)
            try NamespaceLAN.ip("-n", rt, "link", "set", rif, "up")
            try NamespaceLAN.ip("-n", h, "addr", "add", "\(net).2/24", "dev", "eth0")
            try NamespaceLAN.ip("-n", h, "link", "set", "eth0", "up")
            try NamespaceLAN.ip("-n", h, "route", "add", "10.215.0.0/16", "via", "\(net).1")
        }
        let fwd = try runCommand(ipPath, ["netns", "exec", rt, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], timeout: 30)
        try #require(fwd.exitCode == 0, "sysctl: \(fwd.output)")

        let root = try makeScratchDir("staticpeers")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let a = try Daemon.forTest("a", root: root, group: group, port: port, interface: "eth0", prefix: [ipPath, "netns", "exec", ha])
        let b = try Daemon.forTest("b", root: root, group: group, port: port, interface: "eth0", prefix: [ipPath, "netns", "exec", hb])
        // A third node on B's subnet would be the usual case; here B knows A and A knows B.
        for (d, other) in [(a, "10.215.2.2"), (b, "10.215.1.2")] {
            try appendLine(d.configPath, "peers = [\"\(other):\(port)\"]\nbroadcast = \"off\"")
        }
        try await withDaemons([a, b]) {
            for d in [a, b] { try await d.start() }
            do {
                try await waitUntil("A and B see each other through the router", timeout: 30) {
                    let (pa, pb) = (try await a.status().peers, try await b.status().peers)
                    return pa >= 1 && pb >= 1
                }
            } catch {
                let counters = (try? await b.status().counters) ?? [:]
                Issue.record("\(error)\nB's counters: \(counters)\nA's log:\n\(a.logTail(30))\nB's log:\n\(b.logTail(30))")
                throw error
            }
            let seconds = try await Self.exchange(a, b, within: 30)
            print("lan-paths: static peer across a router: A → B in \(String(format: "%.2f", seconds)) s")
            let counters = try await b.status().counters
            #expect(counters["packets_in_unicast", default: 0] > 0, "\(counters)")
            #expect(counters["packets_out_unicast", default: 0] > 0, "\(counters)")
            for d in [a, b] { await d.stopCleanly() }
        }
    }

    @Test(
        "an IPv6-only LAN: link-local multicast carries the mesh",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(5)))
    func ipv6Only() async throws {
        let lan = try NamespaceLAN.create(hostCount: 2, name: "e6", ipv4: false)
        defer { lan.teardown() }
        let root = try makeScratchDir("ipv6only")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b"].enumerated().map { i, name in
            try Daemon.forTest(name, root: root, group: group, port: port, interface: "eth0", prefix: lan.prefix(i))
        }
        try await withDaemons(nodes) {
            let t0 = monoNanos()
            for d in nodes { try await d.start() }
            try await waitUntil("A and B see each other over IPv6", timeout: 30) {
                let (pa, pb) = (try await nodes[0].status().peers, try await nodes[1].status().peers)
                return pa >= 1 && pb >= 1
            }
            let met = secondsSince(t0)
            let seconds = try await Self.exchange(nodes[0], nodes[1], within: 30)
            print(
                "lan-paths: IPv6 only: peers after \(String(format: "%.2f", met)) s, A → B in \(String(format: "%.2f", seconds)) s"
            )
            let peers = try await nodes[0].call("peers.list", EmptyParams(), as: PeersOnly.self).peers
            #expect(peers.count == 1 && peers.allSatisfy { $0.address.hasPrefix("[fe80:") }, "\(peers)")
            let (ca, cb) = (try await nodes[0].status().counters, try await nodes[1].status().counters)
            #expect(ca["packets_out_v6", default: 0] > 0, "\(ca)")
            #expect(cb["packets_in_v6", default: 0] > 0, "\(cb)")
            #expect(ca["packets_out_v6"] == ca["packets_out"], "nothing by IPv4: \(ca)")
            #expect(cb["drop.off_subnet", default: 0] == 0 && cb["drop.not_to_group", default: 0] == 0, "\(cb)")
            let (out6, in6) = (ca["packets_out_v6"] ?? 0, cb["packets_in_v6"] ?? 0)
            print("lan-paths: IPv6 only: A sent \(out6) datagrams by IPv6, B took \(in6)")
            let paths = nodes[0].logTail(100_000).split(separator: "\n").first { $0.contains("LAN paths") }
            #expect(paths?.contains("lan.ipv6=eth0 ") == true && paths?.contains("lan.multicast=none") == true)
            print("lan-paths: IPv6 only: \(paths ?? "no LAN paths line")")
            // The hostile-LAN rule: a multicast to the group from a routable (unique-local) source, and a unicast
            // to the port from a neighbour, are dropped before the core.
            try NamespaceLAN.ip("-n", lan.hosts[0], "addr", "add", "fd00:45::1/64", "dev", "eth0", "nodad")
            let bHost = String(peers[0].address.dropFirst().prefix { $0 != "]" })
            let script = """
                import socket, sys
                port, idx = int(sys.argv[1]), socket.if_nametoindex("eth0")
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s.bind(("fd00:45::1", 0))
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
                s.sendto(b"x" * 64, ("\(LANInterfaceGroup.ipv6)", port, 0, idx))
                u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                u.sendto(b"y" * 64, (sys.argv[2], port, 0, idx))
                """
            try runChecked(ipPath, ["netns", "exec", lan.hosts[0], "python3", "-c", script, "\(port)", bHost])
            try await waitUntil("B drops the routable source and the unicast", timeout: 10) {
                let c = try await nodes[1].status().counters
                return c["drop.off_subnet", default: 0] >= 1 && c["drop.not_to_group", default: 0] >= 1
            }
            for d in nodes { await d.stopCleanly() }
        }
    }

    @Test(
        "a dual-stack LAN with one IPv6-only host: all three meet; dual-stack nodes add IPv6 only for it",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(5)))
    func mixedFamilies() async throws {
        let lan = try NamespaceLAN.create(hostCount: 3, name: "em")
        defer { lan.teardown() }
        try NamespaceLAN.ip("-n", lan.hosts[2], "addr", "del", "10.213.0.3/24", "dev", "eth0")
        let root = try makeScratchDir("mixedfam")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b", "c"].enumerated().map { i, name in
            try Daemon.forTest(name, root: root, group: group, port: port, interface: "eth0", prefix: lan.prefix(i))
        }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        try await withDaemons(nodes) {
            // A and B alone first: a dual-stack LAN sends nothing by IPv6.
            for d in [a, b] { try await d.start() }
            try await waitUntil("A and B see each other", timeout: 30) {
                let (pa, pb) = (try await a.status().peers, try await b.status().peers)
                return pa >= 1 && pb >= 1
            }
            let before = try await Self.exchange(a, b, within: 30)
            let ab = try await a.status().counters
            #expect(ab["packets_out_v6", default: 0] == 0 && ab["dup_family", default: 0] == 0, "\(ab)")
            let (abOut, abOut6) = (ab["packets_out"] ?? 0, ab["packets_out_v6"] ?? 0)
            print(
                "lan-paths: dual-stack: A → B in \(String(format: "%.2f", before)) s; A sent \(abOut), \(abOut6) by IPv6")
            try await c.start()
            try await waitUntil("C and the others see each other", timeout: 60) {
                let (pa, pb, pc) = (try await a.status().peers, try await b.status().peers, try await c.status().peers)
                return pa >= 2 && pb >= 2 && pc >= 2
            }
            let toC = try await Self.exchange(b, c, within: 30)
            let idA = try await a.id()
            _ = try await c.call(RPC.Method.contactsAdd, ContactsAddParams(name: "alice", id: idA), as: OK.self)
            let sent = try await c.call(
                RPC.Method.messagesSend, MessagesSendParams(to: "alice", text: "from the IPv6-only host"),
                as: MessageSent.self)
            try await waitUntil("A receives C's message", timeout: 30) {
                try await a.inbox().contains { $0.message_id == sent.message_id }
            }
            let (ca, cb, cc) = (try await a.status().counters, try await b.status().counters, try await c.status().counters)
            #expect(ca["packets_out_v6", default: 0] > 0, "A added IPv6 for C: \(ca)")
            #expect(cc["packets_in_v6", default: 0] > 0, "\(cc)")
            #expect(cb["dup_family", default: 0] > 0, "B took A's copies once: \(cb)")
            let paths = a.logTail(100_000).split(separator: "\n").first { $0.contains("LAN paths") }
            #expect(paths?.contains("lan.ipv6=eth0 (when a peer needs it)") == true, "\(paths ?? "")")
            #expect(paths?.contains("lan.multicast=eth0") == true, "\(paths ?? "")")
            #expect(a.logTail(100_000).contains("a peer is heard only by IPv6: also sending by IPv6"))
            let (caOut, caOut6, cbDup, ccOut6) = (
                ca["packets_out"] ?? 0, ca["packets_out_v6"] ?? 0, cb["dup_family"] ?? 0, cc["packets_out_v6"] ?? 0
            )
            print(
                "lan-paths: mixed: B → C in \(String(format: "%.2f", toC)) s; A sent \(caOut) (\(caOut6) by IPv6), "
                    + "B dropped \(cbDup) second copies; C sent \(ccOut6) by IPv6"
            )
            for d in nodes { await d.stopCleanly() }
        }
    }

    @Test(
        "lan.ipv6 = on: both families carry every datagram, and the receiver takes each once",
        .enabled(if: NamespaceLAN.available, "needs root and iproute2 to create network namespaces"),
        .timeLimit(.minutes(5)))
    func bothFamilies() async throws {
        let lan = try NamespaceLAN.create(hostCount: 2, name: "e2")
        defer { lan.teardown() }
        let root = try makeScratchDir("bothfam")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let nodes = try ["a", "b"].enumerated().map { i, name in
            try Daemon.forTest(name, root: root, group: group, port: port, interface: "eth0", prefix: lan.prefix(i))
        }
        for d in nodes { try appendLine(d.configPath, "ipv6 = \"on\"") }
        let (a, b) = (nodes[0], nodes[1])
        try await withDaemons(nodes) {
            for d in nodes { try await d.start() }
            try await waitUntil("A and B see each other", timeout: 30) {
                let (pa, pb) = (try await a.status().peers, try await b.status().peers)
                return pa >= 1 && pb >= 1
            }
            let idB = try await b.id()
            _ = try await a.call(RPC.Method.contactsAdd, ContactsAddParams(name: "bob", id: idB), as: OK.self)
            var ids: Set<String> = []
            for i in 1...5 {
                let sent = try await a.call(
                    RPC.Method.messagesSend, MessagesSendParams(to: "bob", text: "copy \(i)"), as: MessageSent.self)
                ids.insert(sent.message_id)
            }
            try await waitUntil("B receives the five", timeout: 30) {
                Set(try await b.inbox().map(\.message_id)).isSuperset(of: ids)
            }
            let got = try await b.inbox().filter { ids.contains($0.message_id) }
            #expect(got.count == 5, "each once: \(got.map(\.message_id))")
            let (ca, cb) = (try await a.status().counters, try await b.status().counters)
            let (out, out6, dup) = (ca["packets_out"] ?? 0, ca["packets_out_v6"] ?? 0, cb["dup_family"] ?? 0)
            #expect(out6 > 0 && dup > 0, "A: \(ca)\nB: \(cb)")
            print("lan-paths: both families: A sent \(out), \(out6) of them by IPv6; B dropped \(dup) second copies")
            for d in nodes { await d.stopCleanly() }
        }
    }
}

/// The IPv6 group (`LANInterface.ipv6Group` in the daemon; docs/protocol.md).
enum LANInterfaceGroup {
    static let ipv6 = "ff02::4545"
}

/// Appends `text` and a newline to the file at `path` (a config file's last section).
func appendLine(_ path: String, _ text: String) throws {
    let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? h.close() }
    try h.seekToEnd()
    try h.write(contentsOf: Data((text + "\n").utf8))
}
