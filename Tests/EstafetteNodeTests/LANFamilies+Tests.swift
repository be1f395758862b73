import Foundation
import NIOCore
import Testing

@testable import EstafetteNode

#if canImport(Glibc)
    import Glibc
#endif

/// Which family a dual-stack interface sends by (`lan.ipv6 = "auto"`), on a virtual clock.
@Suite("LAN families: IPv6 beside IPv4 on a dual-stack link")
struct LANFamiliesTests {
    static let window: Int64 = 10_000

    static func families(_ mode: LANIPv6 = .auto) -> LANFamilies {
        LANFamilies(mode: mode, interfaceCount: 2, windowMillis: window)
    }

    @Test("a LAN of dual-stack nodes stays on IPv4: no traffic doubles")
    func dualStackStaysOnIPv4() {
        var f = Self.families()
        #expect(!f.ipv6Active(0, now: 0))
        for t in stride(from: Int64(0), through: 60_000, by: 500) {
            #expect(f.heard(interface: 0, source: "10.0.0.2", v6: false, digest: Int(t), nowMillis: t) == .fresh)
        }
        #expect(!f.ipv6Active(0, now: 60_001))
    }

    @Test("a peer heard by IPv6 only turns IPv6 on for a window, on that interface only")
    func ipv6OnlyPeer() {
        var f = Self.families()
        #expect(f.heard(interface: 0, source: "fe80::2", v6: true, digest: 1, nowMillis: 1_000) == .fresh)
        #expect(f.ipv6Active(0, now: 1_001))
        #expect(!f.ipv6Active(1, now: 1_001))
        #expect(f.ipv6OnlySources(0, now: 1_001) == 1)
        #expect(f.ipv6Active(0, now: 1_000 + Self.window))
        #expect(!f.ipv6Active(0, now: 1_001 + Self.window), "the peer left: back to IPv4 only")
    }

    @Test("a datagram heard by both families is taken once, whichever comes first; its sender is dual-stack")
    func courtesyCopies() {
        var f = Self.families()
        // IPv4 first: the IPv6 copy is a duplicate and never turns IPv6 on.
        #expect(f.heard(interface: 0, source: "10.0.0.2", v6: false, digest: 7, nowMillis: 100) == .fresh)
        #expect(f.heard(interface: 0, source: "fe80::2", v6: true, digest: 7, nowMillis: 101) == .duplicate)
        #expect(!f.ipv6Active(0, now: 102))
        // IPv6 first: on for a moment, off again once the IPv4 copy shows the sender is dual-stack.
        #expect(f.heard(interface: 0, source: "fe80::3", v6: true, digest: 8, nowMillis: 200) == .fresh)
        #expect(f.ipv6Active(0, now: 201))
        #expect(f.heard(interface: 0, source: "10.0.0.3", v6: false, digest: 8, nowMillis: 202) == .duplicate)
        #expect(!f.ipv6Active(0, now: 203))
        // The dual-stack senders' later IPv6 copies do not count either, even before their IPv4 copy.
        #expect(f.heard(interface: 0, source: "fe80::3", v6: true, digest: 9, nowMillis: 300) == .fresh)
        #expect(!f.ipv6Active(0, now: 301))
        // The same bytes by the same family again are not the other family's copy.
        #expect(f.heard(interface: 0, source: "10.0.0.2", v6: false, digest: 7, nowMillis: 400) == .fresh)
        // Long after, a match is no longer looked for.
        #expect(
            f.heard(interface: 0, source: "fe80::9", v6: true, digest: 7, nowMillis: 400 + LANFamilies.duplicateMillis + 1)
                == .fresh)
    }

    @Test("an IPv6-only peer keeps IPv6 on while dual-stack neighbours echo by both families")
    func mixedLink() {
        var f = Self.families()
        var digest = 0
        for t in stride(from: Int64(0), through: 30_000, by: 1_000) {
            digest += 1
            #expect(f.heard(interface: 0, source: "fe80::c", v6: true, digest: digest, nowMillis: t) == .fresh)
            digest += 1
            _ = f.heard(interface: 0, source: "10.0.0.2", v6: false, digest: digest, nowMillis: t)
            #expect(f.heard(interface: 0, source: "fe80::2", v6: true, digest: digest, nowMillis: t) == .duplicate)
            #expect(f.ipv6Active(0, now: t))
            #expect(f.ipv6OnlySources(0, now: t) == 1)
        }
        // The IPv6-only peer leaves; the dual-stack ones go on: IPv6 stops a window later.
        for t in stride(from: Int64(31_000), through: 50_000, by: 1_000) {
            digest += 1
            _ = f.heard(interface: 0, source: "10.0.0.2", v6: false, digest: digest, nowMillis: t)
            _ = f.heard(interface: 0, source: "fe80::2", v6: true, digest: digest, nowMillis: t)
        }
        #expect(!f.ipv6Active(0, now: 50_001))
    }

    @Test("on and off do not look at what is heard; memory stays bounded")
    func modesAndBounds() {
        var on = Self.families(.on)
        var off = Self.families(.off)
        #expect(on.ipv6Active(0, now: 0))
        _ = off.heard(interface: 0, source: "fe80::2", v6: true, digest: 1, nowMillis: 0)
        #expect(!off.ipv6Active(0, now: 1))
        for i in 0..<(LANFamilies.maxEntries * 3) {
            _ = on.heard(interface: 1, source: "fe80::\(i % 1000)", v6: true, digest: i, nowMillis: Int64(i))
        }
        #expect(on.ipv6OnlySources(1, now: Int64(LANFamilies.maxEntries * 3)) <= LANFamilies.maxSources)
    }
}

@Suite("LAN interfaces: the IPv6 source rule and link-local discovery")
struct LANInterfaceTests {
    static func v6(_ text: String, scope: UInt32) throws -> SocketAddress {
        guard case .v6(let a) = try SocketAddress(ipAddress: text, port: 4545) else { fatalError("not IPv6") }
        var raw = a.address
        raw.sin6_scope_id = scope
        return SocketAddress(raw, host: text)
    }

    @Test("only link-local sources on the interface they came in on are neighbours")
    func linkLocalSources() throws {
        #expect(LANInterface.isLinkLocal(try Self.v6("fe80::1", scope: 3), onInterface: 3))
        #expect(LANInterface.isLinkLocal(try Self.v6("febf::1", scope: 3), onInterface: 3), "all of fe80::/10")
        #expect(!LANInterface.isLinkLocal(try Self.v6("fe80::1", scope: 4), onInterface: 3), "another interface")
        #expect(!LANInterface.isLinkLocal(try Self.v6("fe80::1", scope: 0), onInterface: 3), "no scope")
        #expect(!LANInterface.isLinkLocal(try Self.v6("fec0::1", scope: 3), onInterface: 3), "site-local")
        #expect(!LANInterface.isLinkLocal(try Self.v6("2001:db8::1", scope: 3), onInterface: 3), "global: routed")
        #expect(!LANInterface.isLinkLocal(try Self.v6("fd00::2", scope: 3), onInterface: 3), "unique local")
        #expect(!LANInterface.isLinkLocal(try Self.v6("::ffff:10.0.0.1", scope: 3), onInterface: 3))
        #expect(!LANInterface.isLinkLocal(try SocketAddress(ipAddress: "10.0.0.1", port: 1), onInterface: 3))
    }

    @Test("link-local addresses still in duplicate address detection, or duplicated, are not used")
    func inet6Table() {
        let table = """
            fe8000000000000000fc00fffe000001 04 40 20 80     eth0
            fe800000000000000000000000000002 05 40 20 c0     eth1
            fe800000000000000000000000000003 06 40 20 88     eth2
            00000000000000000000000000000001 01 80 10 80       lo
            fd000000000000000000000000000002 04 40 00 82     eth0
            garbage
            """
        #expect(
            LANInterface.parseInet6Table(table) == [LANInterface.LinkLocal(name: "eth0", address: "fe80::fc:ff:fe00:1")])
    }
}

@Suite("LAN interfaces: which links look like a LAN")
struct LANLikeTests {
    @Test("Ethernet links are; loopback, tunnels, /32s and the ports of a bridge are not")
    func lanLike() throws {
        let sysfs = NSTemporaryDirectory() + "estafette-sysfs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: sysfs) }
        let fm = FileManager.default
        for (name, type) in [("eth0", "1"), ("wg0", "65534"), ("br0", "1"), ("veth1", "1"), ("tap0", "1")] {
            try fm.createDirectory(atPath: "\(sysfs)/\(name)", withIntermediateDirectories: true)
            try (type + "\n").write(toFile: "\(sysfs)/\(name)/type", atomically: true, encoding: .utf8)
        }
        try "0x1002\n".write(toFile: "\(sysfs)/tap0/tun_flags", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: "\(sysfs)/veth1/master", withDestinationPath: "../br0")
        func why(_ name: String, p2p: Bool = false, host: Bool = false) -> String? {
            LANInterface.whyNotLAN(name: name, pointToPoint: p2p, hostRoute: host, sysfs: sysfs)
        }
        #expect(why("eth0") == nil)
        #expect(why("br0") == nil)
        #expect(why("veth1")?.contains("port of br0") == true, "\(why("veth1") ?? "nil")")
        #expect(why("wg0")?.contains("link type 65534") == true)
        #expect(why("tap0")?.contains("tun/tap") == true)
        #expect(why("lo")?.contains("loopback") == true)
        #expect(why("eth0", p2p: true)?.contains("point-to-point") == true)
        #expect(why("eth0", host: true)?.contains("/32") == true)
    }
}
