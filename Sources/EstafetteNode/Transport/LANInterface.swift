import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A LAN interface the mesh runs on, with the families it uses there: its IPv4 address (multicast to `lan.group`,
/// broadcast, static peers) and its IPv6 link-local address (multicast to ``LANInterface/ipv6Group``), either or
/// both. To the core it is one path whatever the families (docs/decisions.md, "IPv6 link-local multicast").
struct LANInterface: Sendable {
    let name: String
    /// The kernel's interface index (the scope of link-local addresses, the index in packet info).
    let index: Int
    /// The interface with its IPv4 address, when it has one.
    let device: NIONetworkDevice?
    /// The interface with its IPv6 link-local address (fe80::/10, duplicate address detection done), when it has
    /// one and IPv6 is not off.
    let device6: NIONetworkDevice?

    /// The group every node joins on each interface with a link-local address (docs/protocol.md).
    static let ipv6Group = "ff02::4545"

    init(name: String, index: Int, device: NIONetworkDevice?, device6: NIONetworkDevice?) {
        self.name = name
        self.index = index
        self.device = device
        self.device6 = device6
    }

    /// An IPv4-only interface (the tests of the broadcast rule).
    init(device: NIONetworkDevice) {
        self.init(name: device.name, index: device.interfaceIndex, device: device, device6: nil)
    }

    var address: SocketAddress? { device?.address }
    var netmask: SocketAddress? { device?.netmask }
    var linkLocal: SocketAddress? { device6?.address }

    /// The subnet's broadcast address: the one the interface is configured with, when it is the subnet's
    /// (address | ~netmask). Nil on point-to-point links, loopback, /31 and /32, an address configured without
    /// one (`ip addr add` without `brd`, where getifaddrs reports the address itself), and without IPv4.
    var broadcast: SocketAddress? {
        guard case .v4(let a)? = address, let mask = netmask, case .v4(let m) = mask,
            let b = device?.broadcastAddress, case .v4(let given) = b
        else { return nil }
        let hostMask = ~UInt32(bigEndian: m.address.sin_addr.s_addr)
        guard hostMask > 1 else { return nil }
        let expected = UInt32(bigEndian: a.address.sin_addr.s_addr) | hostMask
        return UInt32(bigEndian: given.address.sin_addr.s_addr) == expected ? b : nil
    }

    var ipv4: in_addr? {
        if case .v4(let a)? = address { return a.address.sin_addr }
        return nil
    }

    /// Whether `host` may send to this interface: an IPv4 host on its subnet, or an IPv6 link-local host whose
    /// scope is this interface (``isLinkLocal(_:onInterface:)``).
    func contains(_ host: SocketAddress) -> Bool {
        switch host {
        case .v4(let h):
            guard case .v4(let a)? = address, let mask = netmask, case .v4(let m) = mask else { return false }
            let mm = m.address.sin_addr.s_addr
            return a.address.sin_addr.s_addr & mm == h.address.sin_addr.s_addr & mm
        case .v6:
            return device6 != nil && Self.isLinkLocal(host, onInterface: index)
        case .unixDomainSocket:
            return false
        }
    }

    /// The hostile-LAN rule for IPv6: the source is link-local (fe80::/10) and was received on interface `index`
    /// (the kernel gives a link-local source the scope of the interface it came in on). A global or unique-local
    /// source came through a router, or is forged: it is not a neighbour.
    static func isLinkLocal(_ host: SocketAddress, onInterface index: Int) -> Bool {
        guard case .v6(let h) = host else { return false }
        let a = h.address
        let first = withUnsafeBytes(of: a.sin6_addr) { ($0[0], $0[1]) }
        return first.0 == 0xFE && first.1 & 0xC0 == 0x80 && Int(a.sin6_scope_id) == index
    }

    /// Identifies an interface set, to notice when addresses come and go.
    static func signature(_ interfaces: [LANInterface]) -> [String] {
        interfaces.map {
            "\($0.name)/\($0.address?.ipAddress ?? "")/\($0.linkLocal?.ipAddress ?? "")"
        }.sorted()
    }

    /// The interfaces to use now: the named ones that are up with IPv4 or an IPv6 link-local address and multicast
    /// (the user's choice, even if not LAN-like: `problems` then says so), or else every interface that looks like
    /// a LAN (see ``isLANLike(_:sysfs:)``). `problems` says why a named interface is not (yet) usable.
    static func choose(names: [String], ipv6: LANIPv6) throws -> (usable: [LANInterface], problems: [String]) {
        let all = try System.enumerateDevices()
        let ready = ipv6 == .off ? [] : usableLinkLocal()
        var order: [String] = []
        var v4: [String: NIONetworkDevice] = [:]
        var v6: [String: NIONetworkDevice] = [:]
        for d in all {
            guard let a = d.address else { continue }
            if !order.contains(d.name) { order.append(d.name) }
            switch a.protocol {
            case .inet: if v4[d.name] == nil { v4[d.name] = d }
            case .inet6:
                if v6[d.name] == nil, let text = a.ipAddress, ready.contains(LinkLocal(name: d.name, address: text)),
                    isLinkLocal(a, onInterface: d.interfaceIndex)
                {
                    v6[d.name] = d
                }
            default: break
            }
        }
        func lan(_ name: String) -> LANInterface? {
            guard let any = v4[name] ?? v6[name] else { return nil }
            return LANInterface(name: name, index: any.interfaceIndex, device: v4[name], device6: v6[name])
        }
        if names.isEmpty {
            let found = order.compactMap(lan).filter { i in
                let d = (i.device ?? i.device6)!
                return d.multicastSupported && isLANLike(d) == nil
            }
            return (found, [])
        }
        var usable: [LANInterface] = []
        var problems: [String] = []
        for name in names {
            guard let i = lan(name), let d = i.device ?? i.device6 else {
                let what = ipv6 == .off ? "IPv4 address" : "IPv4 address or usable IPv6 link-local address"
                problems.append("interface '\(name)' has no \(what) (yet)")
                continue
            }
            guard d.multicastSupported else {
                var hint = ""
                if name.hasPrefix("lo") { hint = " (enable it with: ip link set \(name) multicast on)" }
                problems.append("interface '\(name)' does not support multicast\(hint)")
                continue
            }
            if let why = isLANLike(d), !name.hasPrefix("lo") {
                problems.append("interface '\(name)' is used as configured, but \(why)")
            }
            usable.append(i)
        }
        return (usable, problems)
    }

    /// Why `device` does not look like a LAN (nil when it does). The mesh is for people in one place, so by
    /// default it stays off links that reach further or elsewhere: loopback, point-to-point links, tunnels and
    /// VPNs (WireGuard, tun, tap, PPP, GRE, SIT: any link type but Ethernet, which includes Wi-Fi, bridges and veth
    /// pairs), and host routes (/32) with no neighbours; and off the ports of a bridge or bond, whose link the
    /// bridge or bond itself is on (with IPv6 a port has a link-local address of its own: using both would put
    /// the same link twice, and a container host's veth ports would carry the mesh into every container).
    static func isLANLike(_ device: NIONetworkDevice, sysfs: String = "/sys/class/net") -> String? {
        var hostRoute = false
        if case .v4(let mask)? = device.netmask, mask.address.sin_addr.s_addr == 0xFFFF_FFFF { hostRoute = true }
        return whyNotLAN(
            name: device.name, pointToPoint: device.pointToPointDestinationAddress != nil, hostRoute: hostRoute,
            sysfs: sysfs)
    }

    /// ``isLANLike(_:sysfs:)`` on the facts it reads.
    static func whyNotLAN(name: String, pointToPoint: Bool, hostRoute: Bool, sysfs: String) -> String? {
        if name.hasPrefix("lo") { return "it is a loopback interface" }
        if pointToPoint { return "it is a point-to-point link" }
        let base = sysfs + "/" + name
        if let type = try? String(contentsOfFile: base + "/type", encoding: .utf8),
            let linkType = Int(type.trimmingWhitespace()), linkType != 1  // ARPHRD_ETHER
        {
            return "it is not an Ethernet or Wi-Fi link (link type \(linkType): a tunnel or VPN)"
        }
        if FileManager.default.fileExists(atPath: base + "/tun_flags") { return "it is a tun/tap (VPN) device" }
        if let master = try? FileManager.default.destinationOfSymbolicLink(atPath: base + "/master") {
            let owner = master.split(separator: "/").last.map(String.init) ?? master
            return "it is a port of \(owner) (a bridge or bond: the mesh runs on \(owner) itself)"
        }
        if hostRoute { return "its address is a /32 with no subnet" }
        return nil
    }

    struct LinkLocal: Hashable {
        let name: String
        let address: String
    }

    /// The link-local addresses a socket can be bound to now, from `/proc/net/if_inet6`: not tentative (duplicate
    /// address detection still running, when a bind fails) and not a detected duplicate. getifaddrs lists those
    /// too, with no flags.
    static func usableLinkLocal(table path: String = "/proc/net/if_inet6") -> Set<LinkLocal> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return parseInet6Table(text)
    }

    /// `/proc/net/if_inet6` lines: address (32 hex digits), index, prefix length, scope, flags, name.
    static func parseInet6Table(_ text: String) -> Set<LinkLocal> {
        var result: Set<LinkLocal> = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, f[0].utf8.count == 32, let flags = UInt32(f[4], radix: 16) else { continue }
            let tentative: UInt32 = 0x40
            let dadFailed: UInt32 = 0x08
            guard flags & (tentative | dadFailed) == 0 else { continue }
            var bytes = [UInt8]()
            var hex = Substring(f[0])
            while !hex.isEmpty {
                guard let b = UInt8(hex.prefix(2), radix: 16) else { break }
                bytes.append(b)
                hex = hex.dropFirst(2)
            }
            guard bytes.count == 16, bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 else { continue }
            var a = in6_addr()
            withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: bytes) }
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count)) != nil else { continue }
            let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            result.insert(LinkLocal(name: String(f[5]), address: text))
        }
        return result
    }
}
