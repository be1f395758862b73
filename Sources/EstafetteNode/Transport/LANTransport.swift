import EstafetteCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// One datagram received from the LAN.
struct InboundDatagram: Sendable {
    let bytes: [UInt8]
    let from: PeerAddress
}

/// An IPv4 LAN interface the mesh runs on.
struct LANInterface: Sendable {
    let name: String
    let device: NIONetworkDevice
    let address: SocketAddress
    let netmask: SocketAddress?

    /// The subnet's broadcast address: the one the interface is configured with, when it is the subnet's
    /// (address | ~netmask). Nil on point-to-point links, loopback, /31 and /32, and an address configured without
    /// one (`ip addr add` without `brd`, where getifaddrs reports the address itself).
    var broadcast: SocketAddress? {
        guard case .v4(let a) = address, let mask = netmask, case .v4(let m) = mask,
            let b = device.broadcastAddress, case .v4(let given) = b
        else { return nil }
        let hostMask = ~UInt32(bigEndian: m.address.sin_addr.s_addr)
        guard hostMask > 1 else { return nil }
        let expected = UInt32(bigEndian: a.address.sin_addr.s_addr) | hostMask
        return UInt32(bigEndian: given.address.sin_addr.s_addr) == expected ? b : nil
    }

    var ipv4: in_addr? {
        if case .v4(let a) = address { return a.address.sin_addr }
        return nil
    }

    /// Whether `host` lies on this interface's subnet.
    func contains(_ host: SocketAddress) -> Bool {
        guard case .v4(let a) = address, case .v4(let h) = host else { return false }
        guard let mask = netmask, case .v4(let m) = mask else { return false }
        let mm = m.address.sin_addr.s_addr
        return a.address.sin_addr.s_addr & mm == h.address.sin_addr.s_addr & mm
    }
}

struct LANError: Error, CustomStringConvertible {
    let description: String
}

/// UDP multicast transport for one mesh group.
///
/// - One receive socket bound to `0.0.0.0:port` (SO_REUSEADDR + SO_REUSEPORT, so several daemons on one host
///   share the port), joined to the group on every chosen interface.
/// - Per interface, one send socket bound to `<interface address>:0` with IP_MULTICAST_IF set, TTL 1 and loopback
///   on. Multicasts leave from it, so its ephemeral port is this node's unicast address on that link, and peers'
///   unicast answers (inventories, wants, pushed envelopes) arrive on it — unicast to the shared group port would
///   reach only one of several daemons on a host.
///
/// Two more paths for networks where multicast does not pass (docs/decisions.md, "LAN paths"):
/// - subnet broadcast (`lan.broadcast`): each datagram also goes to the interface's broadcast address while
///   ``LANPaths`` says so; the group socket takes broadcasts to the port;
/// - static peers (`lan.peers`): each datagram also goes, by unicast from the group socket, to every configured
///   `ip:port`; their unicasts to the group port are taken from any subnet. Together they are one more path for
///   the core (index `interfaces.count`), so a node bridges what it hears from them onto its LANs and back.
///
/// IPv6 link-local multicast is not used yet: see docs/decisions.md.
final class LANTransport: Sendable {
    let group: SocketAddress
    let interfaces: [LANInterface]
    let staticPeers: [SocketAddress]
    private let receiveChannel: any Channel
    private let sendChannels: [any Channel]
    let inbound: AsyncStream<InboundDatagram>
    private let continuation: AsyncStream<InboundDatagram>.Continuation
    private let counters: NIOLockedValueBox<[String: Int64]>
    private let queued: NIOLockedValueBox<SourceQueue>
    private let paths: NIOLockedValueBox<LANPaths>

    /// The paths the core sees: one per interface, and one for the static peers when there are any.
    var pathCount: Int { interfaces.count + (staticPeers.isEmpty ? 0 : 1) }

    /// Largest datagram read from a socket: bigger ones are truncated by the allocator and then fail to open.
    static let receiveBufferBytes = 2048
    /// Datagrams read per `recvmmsg` call (each in its own `receiveBufferBytes` slot of one buffer).
    static let datagramsPerRead = 16
    /// Datagrams queued between the sockets and the node shell; beyond this, new ones are dropped and counted.
    static let inboundQueueLimit = 4096
    /// Datagrams of one source address (``PeerAddress/source``) queued at once: a flooding host fills only its own
    /// share, and datagrams from everyone else still find room (`drop.rx_source_full`).
    static let inboundPerSourceLimit = inboundQueueLimit / 8

    private init(
        group: SocketAddress, interfaces: [LANInterface], staticPeers: [SocketAddress], receiveChannel: any Channel,
        sendChannels: [any Channel], inbound: AsyncStream<InboundDatagram>,
        continuation: AsyncStream<InboundDatagram>.Continuation, counters: NIOLockedValueBox<[String: Int64]>,
        queued: NIOLockedValueBox<SourceQueue>, paths: NIOLockedValueBox<LANPaths>
    ) {
        self.staticPeers = staticPeers
        self.paths = paths
        self.queued = queued
        self.continuation = continuation
        self.group = group
        self.interfaces = interfaces
        self.receiveChannel = receiveChannel
        self.sendChannels = sendChannels
        self.inbound = inbound
        self.counters = counters
    }

    /// The interfaces to use now: the named ones that are up with IPv4 and multicast (the user's choice, even if
    /// not LAN-like: `problems` then says so), or else every interface that looks like a LAN (see ``isLANLike``).
    /// `problems` says why a named interface is not (yet) usable.
    static func chooseInterfaces(names: [String]) throws -> (usable: [LANInterface], problems: [String]) {
        let devices = try System.enumerateDevices().filter { $0.address?.protocol == .inet }
        func lan(_ d: NIONetworkDevice) -> LANInterface {
            LANInterface(name: d.name, device: d, address: d.address!, netmask: d.netmask)
        }
        if names.isEmpty {
            return (devices.filter { $0.multicastSupported && isLANLike($0) == nil }.map(lan), [])
        }
        var usable: [LANInterface] = []
        var problems: [String] = []
        for name in names {
            guard let d = devices.first(where: { $0.name == name }) else {
                problems.append("interface '\(name)' has no IPv4 address (yet)")
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
            usable.append(lan(d))
        }
        return (usable, problems)
    }

    /// Why `device` does not look like a LAN (nil when it does). The mesh is for people in one place, so by
    /// default it stays off links that reach further or elsewhere: loopback, point-to-point links, tunnels and
    /// VPNs (WireGuard, tun, tap, PPP, GRE, SIT: any link type but Ethernet, which includes Wi-Fi, bridges and veth
    /// pairs), and host routes (/32) with no neighbours.
    static func isLANLike(_ device: NIONetworkDevice, sysfs: String = "/sys/class/net") -> String? {
        if device.name.hasPrefix("lo") { return "it is a loopback interface" }
        if device.pointToPointDestinationAddress != nil { return "it is a point-to-point link" }
        let base = sysfs + "/" + device.name
        if let type = try? String(contentsOfFile: base + "/type", encoding: .utf8),
            let linkType = Int(type.trimmingWhitespace()), linkType != 1  // ARPHRD_ETHER
        {
            return "it is not an Ethernet or Wi-Fi link (link type \(linkType): a tunnel or VPN)"
        }
        if FileManager.default.fileExists(atPath: base + "/tun_flags") { return "it is a tun/tap (VPN) device" }
        if case .v4(let mask)? = device.netmask, mask.address.sin_addr.s_addr == 0xFFFF_FFFF {
            return "its address is a /32 with no subnet"
        }
        return nil
    }

    /// Names that are not interfaces of this host at all: a configuration mistake, not a link that is down.
    static func unknownInterfaceNames(_ names: [String]) -> [String] {
        names.filter { if_nametoindex($0) == 0 }
    }

    /// Identifies an interface set, to notice when addresses come and go.
    static func signature(_ interfaces: [LANInterface]) -> [String] {
        interfaces.map { "\($0.name)/\($0.address.ipAddress ?? "")" }.sorted()
    }

    static func start(
        groupHost: String, port: Int, interfaces: [LANInterface], staticPeers: [String] = [],
        broadcast: LANBroadcast = .off, pathWindowMillis: Int64 = 30_000, logger: Logger
    ) async throws -> LANTransport {
        let group = try SocketAddress(ipAddress: groupHost, port: port)
        let peers = try staticPeers.map { text -> SocketAddress in
            guard let colon = text.lastIndex(of: ":"), let p = Int(text[text.index(after: colon)...]) else {
                throw LANError(description: "static peer '\(text)' is not ip:port")
            }
            return try SocketAddress(ipAddress: String(text[..<colon]), port: p)
        }
        let paths = NIOLockedValueBox(
            LANPaths(
                mode: broadcast, interfaceCount: interfaces.count, windowMillis: pathWindowMillis,
                staticHosts: Set(peers.compactMap(\.ipAddress)), nowMillis: LANPaths.monotonicMillis()))
        let (stream, continuation) = AsyncStream.makeStream(
            of: InboundDatagram.self, bufferingPolicy: .bufferingNewest(inboundQueueLimit))
        let counters = NIOLockedValueBox<[String: Int64]>([:])
        let queued = NIOLockedValueBox(SourceQueue(limit: inboundPerSourceLimit))
        // Our own multicasts come back through the loop (so other daemons on this host hear them): drop them by
        // source address before they take a place in the queue.
        let ownSources = NIOLockedValueBox<Set<SocketAddress>>([])
        let loop = MultiThreadedEventLoopGroup.singleton

        @Sendable func handler(interface: Int?) -> DatagramHandler {
            DatagramHandler(
                continuation: continuation, interfaces: interfaces, fixedInterface: interface, group: group,
                counters: counters, ownSources: ownSources, queued: queued, paths: paths, logger: logger)
        }

        let recvChannel = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.init(rawValue: SO_REUSEPORT)), value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: datagramsPerRead)
            // The destination of each datagram: the group socket takes multicasts to the group only.
            .channelOption(.receivePacketInfo, value: true)
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(capacity: receiveBufferBytes * datagramsPerRead)
            )
            // Room for bursts while the node shell is busy (the kernel caps it at net.core.rmem_max).
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(handler(interface: nil)) }
            }
            .bind(host: "0.0.0.0", port: port).get()
        var sendChannels: [any Channel] = []
        do {
            for (i, iface) in interfaces.enumerated() {
                try await (recvChannel as! any MulticastChannel).joinGroup(group, device: iface.device).get()
                let host: String = iface.address.ipAddress ?? "0.0.0.0"
                let ch = try await DatagramBootstrap(group: loop)
                    .channelOption(
                        .recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveBufferBytes)
                    )
                    .channelInitializer { ch in
                        ch.eventLoop.makeCompletedFuture {
                            try ch.pipeline.syncOperations.addHandler(handler(interface: i))
                        }
                    }
                    .bind(host: host, port: 0).get()
                sendChannels.append(ch)
                if let local = ch.localAddress { ownSources.withLockedValue { _ = $0.insert(local) } }
                let sop = ch as! any SocketOptionProvider
                guard let addr = iface.ipv4 else { throw LANError(description: "\(iface.name) has no IPv4 address") }
                try await sop.setIPMulticastIF(addr).get()
                try await sop.setIPMulticastTTL(1).get()
                try await sop.setIPMulticastLoop(1).get()
                if broadcast != .off, iface.broadcast != nil {
                    try await ch.setOption(.socketOption(.so_broadcast), value: 1).get()
                }
                logger.info(
                    "joined LAN group",
                    metadata: [
                        "lan.interface": "\(iface.name)", "lan.group": "\(groupHost):\(port)",
                        "lan.unicast": "\(ch.localAddress.map { "\($0)" } ?? "?")",
                    ])
            }
        } catch {
            try? await recvChannel.close()
            for ch in sendChannels { try? await ch.close() }
            throw error
        }
        // One line that says which paths this node uses.
        let withBroadcast = interfaces.filter { $0.broadcast != nil }.map(\.name)
        logger.info(
            "LAN paths",
            metadata: [
                "lan.multicast": "\(interfaces.map(\.name).joined(separator: ","))",
                "lan.broadcast":
                    "\(broadcast == .off || withBroadcast.isEmpty ? "off" : "\(broadcast.rawValue) on \(withBroadcast.joined(separator: ","))")",
                "lan.static_peers": "\(peers.isEmpty ? "none" : staticPeers.joined(separator: ","))",
            ])
        return LANTransport(
            group: group, interfaces: interfaces, staticPeers: peers, receiveChannel: recvChannel,
            sendChannels: sendChannels, inbound: stream, continuation: continuation, counters: counters,
            queued: queued, paths: paths)
    }

    /// The shell has taken `d` off the queue: its source may queue one more.
    func dequeued(_ d: InboundDatagram) {
        queued.withLockedValue { $0.leave(d.from.source) }
    }

    /// Multicasts a datagram on every interface except `except`. Returns the number of datagrams sent.
    @discardableResult
    func multicast(_ bytes: [UInt8], except: Int?) -> Int {
        multicast([(bytes, except)])
    }

    /// Multicasts datagrams, in order, each on every interface but its `except`. One hop to each socket's event
    /// loop and one flush for the lot, so a burst leaves in few `sendmmsg` calls instead of one syscall (and one
    /// cross-thread hop) per datagram. Returns the number of datagrams sent.
    /// Multicasts datagrams, in order, each on every path but its `except`: the group on each interface (and the
    /// subnet's broadcast address while ``LANPaths`` says so), and the static peers by unicast. One hop to each
    /// socket's event loop and one flush for the lot, so a burst leaves in few `sendmmsg` calls instead of one
    /// syscall (and one cross-thread hop) per datagram. Returns the number of datagrams sent to the group.
    @discardableResult
    func multicast(_ batch: [(bytes: [UInt8], except: Int?)]) -> Int {
        var n = 0
        let now = LANPaths.monotonicMillis()
        let useBroadcast = paths.withLockedValue { p in (0..<interfaces.count).map { p.broadcastActive($0, now: now) } }
        for (i, ch) in sendChannels.enumerated() {
            let mine = batch.compactMap { $0.except == i ? nil : $0.bytes }
            guard !mine.isEmpty else { continue }
            n += mine.count
            var targets = [(group, "packets_out")]
            if useBroadcast[i], let b = interfaces[i].broadcast, let port = group.port {
                if let to = try? SocketAddress(ipAddress: b.ipAddress ?? "", port: port) {
                    targets.append((to, "packets_out_broadcast"))
                }
            }
            send(mine, on: ch, to: targets)
        }
        if !staticPeers.isEmpty {
            let mine = batch.compactMap { $0.except == interfaces.count ? nil : $0.bytes }
            if !mine.isEmpty { send(mine, on: receiveChannel, to: staticPeers.map { ($0, "packets_out_unicast") }) }
        }
        return n
    }

    private func send(_ datagrams: [[UInt8]], on ch: any Channel, to targets: [(SocketAddress, String)]) {
        let counters = self.counters
        ch.eventLoop.execute {
            for (to, counter) in targets {
                for bytes in datagrams {
                    let env = AddressedEnvelope(remoteAddress: to, data: ch.allocator.buffer(bytes: bytes))
                    ch.write(env).whenComplete { result in
                        counters.withLockedValue { c in
                            switch result {
                            case .success: c[counter, default: 0] += 1
                            case .failure: c["send_errors", default: 0] += 1
                            }
                        }
                    }
                }
            }
            ch.flush()
        }
    }

    var counterValues: [String: Int64] { counters.withLockedValue { $0 } }

    func close() async {
        continuation.finish()
        try? await receiveChannel.close()
        for ch in sendChannels { try? await ch.close() }
    }
}

/// Moves datagrams from a socket into the transport's bounded queue.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let continuation: AsyncStream<InboundDatagram>.Continuation
    let interfaces: [LANInterface]
    /// The interface of a per-interface socket; nil for the shared group socket (the subnet decides).
    let fixedInterface: Int?
    /// The mesh group: the only destination the group socket takes.
    let group: SocketAddress
    let counters: NIOLockedValueBox<[String: Int64]>
    let ownSources: NIOLockedValueBox<Set<SocketAddress>>
    let queued: NIOLockedValueBox<SourceQueue>
    let paths: NIOLockedValueBox<LANPaths>
    let logger: Logger

    init(
        continuation: AsyncStream<InboundDatagram>.Continuation, interfaces: [LANInterface], fixedInterface: Int?,
        group: SocketAddress, counters: NIOLockedValueBox<[String: Int64]>,
        ownSources: NIOLockedValueBox<Set<SocketAddress>>, queued: NIOLockedValueBox<SourceQueue>,
        paths: NIOLockedValueBox<LANPaths>, logger: Logger
    ) {
        self.paths = paths
        self.logger = logger
        self.queued = queued
        self.continuation = continuation
        self.interfaces = interfaces
        self.fixedInterface = fixedInterface
        self.group = group
        self.counters = counters
        self.ownSources = ownSources
    }

    private func drop(_ reason: String) {
        counters.withLockedValue { $0["drop.\(reason)", default: 0] += 1 }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let env = unwrapInboundIn(data)
        let remote = env.remoteAddress
        if ownSources.withLockedValue({ $0.contains(remote) }) {
            counters.withLockedValue { $0["own_packets", default: 0] += 1 }
            return
        }
        // Traffic stays on the LAN: the sender must be on the subnet of the interface it came in on (a routed or
        // spoofed source from elsewhere is dropped), and the shared group socket takes only multicasts to the
        // group, not unicast sent to the group's port.
        // A broadcast to the subnet counts as a multicast (the fallback where multicast is filtered); a unicast to
        // the group port is taken only from a configured static peer, from any subnet.
        let iface: Int
        if let fixed = fixedInterface {
            guard interfaces[fixed].contains(remote) else { return drop("off_subnet") }
            iface = fixed
        } else {
            let destination = env.metadata?.packetInfo?.destinationAddress.ipAddress
            let byBroadcast =
                destination != nil && destination != group.ipAddress
                && (destination == "255.255.255.255" || interfaces.contains { $0.broadcast?.ipAddress == destination })
            if let destination, destination != group.ipAddress, !byBroadcast {
                guard let host = remote.ipAddress, paths.withLockedValue({ $0.staticHosts.contains(host) }) else {
                    return drop("not_to_group")
                }
                iface = interfaces.count
                counters.withLockedValue { $0["packets_in_unicast", default: 0] += 1 }
            } else {
                let arrivedOn = env.metadata?.packetInfo.map { info in
                    interfaces.firstIndex { $0.device.interfaceIndex == info.interfaceIndex }
                }
                guard let found = interfaces.firstIndex(where: { $0.contains(remote) }) else {
                    return drop("off_subnet")
                }
                if case .some(.some(let index)) = arrivedOn, index != found { return drop("off_subnet") }
                iface = found
                let change = paths.withLockedValue {
                    $0.heard(
                        interface: found, source: remote.ipAddress ?? "?", byBroadcast: byBroadcast,
                        nowMillis: LANPaths.monotonicMillis())
                }
                if byBroadcast { counters.withLockedValue { $0["packets_in_broadcast", default: 0] += 1 } }
                if let change {
                    logger.notice(
                        change
                            ? "a peer is heard only by broadcast (multicast filtered?): also sending by broadcast"
                            : "multicast works again: broadcast fallback off",
                        metadata: ["lan.interface": "\(interfaces[found].name)"])
                }
            }
        }
        let peer = PeerAddress(host: remote.ipAddress ?? "?", port: remote.port ?? 0, interface: iface)
        let source = peer.source
        guard queued.withLockedValue({ $0.enter(source) }) else {
            counters.withLockedValue { $0["drop.rx_source_full", default: 0] += 1 }
            return
        }
        let d = InboundDatagram(bytes: Array(env.data.readableBytesView), from: peer)
        if case .dropped(let old) = continuation.yield(d) {
            // The oldest datagram made room: its source no longer has it queued.
            queued.withLockedValue { $0.leave(old.from.source) }
            counters.withLockedValue { $0["drop.rx_queue_full", default: 0] += 1 }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket error (e.g. ICMP unreachable for a departed peer) is not fatal.
        counters.withLockedValue { $0["socket_errors", default: 0] += 1 }
    }
}

@available(*, unavailable)
extension DatagramHandler: Sendable {}

/// How many datagrams each source address has in the inbound queue, bounded per source (see
/// `LANTransport.inboundPerSourceLimit`). Entries leave when they reach zero, so it holds at most the queue's
/// length of sources.
struct SourceQueue: Sendable {
    let limit: Int
    private(set) var counts: [String: Int] = [:]

    init(limit: Int) { self.limit = limit }

    /// Admits one more datagram of `source`, or refuses it when that source is at its limit.
    mutating func enter(_ source: String) -> Bool {
        let n = counts[source, default: 0]
        guard n < limit else { return false }
        counts[source] = n + 1
        return true
    }

    mutating func leave(_ source: String) {
        let n = counts[source, default: 0] - 1
        counts[source] = n > 0 ? n : nil
    }
}

/// Which extra paths a node uses now (`lan.broadcast = "auto"`), from what it hears. Per interface:
/// - while no peer has been heard by multicast for `windowMillis` (the node is alone, or multicast is filtered), it
///   also broadcasts, so that a neighbour behind a multicast filter can hear it;
/// - while a peer that is not heard by multicast is heard by broadcast, it also broadcasts, so that the peer hears
///   it.
/// It starts as if multicast had just been heard, so a node on a working LAN never doubles its traffic. Bounded:
/// at most `maxSources` sources remembered per interface.
struct LANPaths: Sendable {
    let mode: LANBroadcast
    let windowMillis: Int64
    let staticHosts: Set<String>
    private var lastMulticast: [Int64]
    private var broadcastUntil: [Int64]
    /// When each source was last heard by multicast, per interface.
    private var multicastBySource: [[String: Int64]]
    static let maxSources = 256

    init(mode: LANBroadcast, interfaceCount: Int, windowMillis: Int64, staticHosts: Set<String>, nowMillis: Int64) {
        self.mode = mode
        self.windowMillis = windowMillis
        self.staticHosts = staticHosts
        lastMulticast = Array(repeating: nowMillis, count: interfaceCount)
        broadcastUntil = Array(repeating: .min, count: interfaceCount)
        multicastBySource = Array(repeating: [:], count: interfaceCount)
    }

    func sourcesRemembered(interface i: Int) -> Int { multicastBySource[i].count }

    static func monotonicMillis() -> Int64 { Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000) }

    func broadcastActive(_ i: Int, now: Int64) -> Bool {
        switch mode {
        case .off: return false
        case .on: return true
        case .auto: return now - lastMulticast[i] > windowMillis || now < broadcastUntil[i]
        }
    }

    /// Notes a datagram from `source` on interface `i`. Returns true when broadcast became active on `i` because
    /// of it, false when it became inactive, nil when nothing changed.
    mutating func heard(interface i: Int, source: String, byBroadcast: Bool, nowMillis now: Int64) -> Bool? {
        let before = broadcastActive(i, now: now)
        if byBroadcast {
            if let seen = multicastBySource[i][source], now - seen <= windowMillis {
                // Heard by multicast too: it is probing, not behind a filter.
            } else {
                broadcastUntil[i] = now + windowMillis
            }
        } else {
            lastMulticast[i] = now
            if multicastBySource[i][source] == nil, multicastBySource[i].count >= Self.maxSources {
                // Forget the source heard longest ago.
                if let oldest = multicastBySource[i].min(by: { $0.value < $1.value })?.key {
                    multicastBySource[i][oldest] = nil
                }
            }
            multicastBySource[i][source] = now
        }
        let after = broadcastActive(i, now: now)
        return before == after || mode != .auto ? nil : after
    }
}
