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
/// IPv6 beside IPv4 (`lan.ipv6`; docs/decisions.md, "IPv6 link-local multicast"): one more group socket bound to
/// `[::]:port` (IPV6_V6ONLY), joined to ``LANInterface/ipv6Group`` on every interface with a link-local address, and
/// per such interface one send socket bound to that address with IPV6_MULTICAST_IF and hop limit 1. The core still
/// sees one path per interface: which family carries a datagram is the transport's business (``LANFamilies``).
final class LANTransport: Sendable {
    let group: SocketAddress
    let group6: SocketAddress
    let interfaces: [LANInterface]
    let staticPeers: [SocketAddress]
    private let receiveChannel: any Channel
    private let receiveChannel6: (any Channel)?
    /// Per interface, the IPv4 and IPv6 send sockets (nil where the interface lacks the family).
    private let sendChannels: [(v4: (any Channel)?, v6: (any Channel)?)]
    let inbound: AsyncStream<InboundDatagram>
    private let continuation: AsyncStream<InboundDatagram>.Continuation
    private let counters: NIOLockedValueBox<[String: Int64]>
    private let queued: NIOLockedValueBox<SourceQueue>
    private let paths: NIOLockedValueBox<LANPaths>
    private let families: NIOLockedValueBox<LANFamilies>

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
        group: SocketAddress, group6: SocketAddress, interfaces: [LANInterface], staticPeers: [SocketAddress],
        receiveChannel: any Channel, receiveChannel6: (any Channel)?,
        sendChannels: [(v4: (any Channel)?, v6: (any Channel)?)], inbound: AsyncStream<InboundDatagram>,
        continuation: AsyncStream<InboundDatagram>.Continuation, counters: NIOLockedValueBox<[String: Int64]>,
        queued: NIOLockedValueBox<SourceQueue>, paths: NIOLockedValueBox<LANPaths>,
        families: NIOLockedValueBox<LANFamilies>
    ) {
        self.group6 = group6
        self.receiveChannel6 = receiveChannel6
        self.families = families
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

    /// The interfaces to use now (``LANInterface/choose(names:ipv6:)``).
    static func chooseInterfaces(
        names: [String], ipv6: LANIPv6 = .auto
    ) throws -> (usable: [LANInterface], problems: [String]) {
        try LANInterface.choose(names: names, ipv6: ipv6)
    }

    /// Names that are not interfaces of this host at all: a configuration mistake, not a link that is down.
    static func unknownInterfaceNames(_ names: [String]) -> [String] {
        names.filter { if_nametoindex($0) == 0 }
    }

    /// Identifies an interface set, to notice when addresses come and go.
    static func signature(_ interfaces: [LANInterface]) -> [String] { LANInterface.signature(interfaces) }

    /// IPV6_V6ONLY: an IPv6 socket takes IPv6 only.
    static let ipv6Only = ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only)

    static func start(
        groupHost: String, port: Int, interfaces: [LANInterface], staticPeers: [String] = [],
        broadcast: LANBroadcast = .off, ipv6: LANIPv6 = .auto, pathWindowMillis: Int64 = 30_000, logger: Logger
    ) async throws -> LANTransport {
        let group = try SocketAddress(ipAddress: groupHost, port: port)
        let group6 = try SocketAddress(ipAddress: LANInterface.ipv6Group, port: port)
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
        let families = NIOLockedValueBox(
            LANFamilies(mode: ipv6, interfaceCount: interfaces.count, windowMillis: pathWindowMillis))
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
                group6: group6, counters: counters, ownSources: ownSources, queued: queued, paths: paths,
                families: families, logger: logger)
        }
        /// The group socket of one family: bound to the port on every address, with the destination of each
        /// datagram (it takes multicasts to the group only).
        func groupSocket(_ host: String) async throws -> any Channel {
            var b = DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.init(rawValue: SO_REUSEPORT)), value: 1)
            if host == "::" {
                // IPv4 stays with the IPv4 socket (no v4-mapped addresses here).
                b = b.channelOption(Self.ipv6Only, value: 1)
            }
            return try await b
                .channelOption(.datagramVectorReadMessageCount, value: datagramsPerRead)
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
                .bind(host: host, port: port).get()
        }
        /// The send socket of interface `i` in one family, bound to its address with an ephemeral port.
        func sendSocket(_ i: Int, to address: SocketAddress) async throws -> any Channel {
            var b = DatagramBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveBufferBytes))
            if address.protocol == .inet6 { b = b.channelOption(Self.ipv6Only, value: 1) }
            let ch = try await b.channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(handler(interface: i)) }
            }.bind(to: Self.withPort(address, 0)).get()
            if let local = ch.localAddress { ownSources.withLockedValue { _ = $0.insert(local) } }
            return ch
        }

        let recvChannel = try await groupSocket("0.0.0.0")
        var recvChannel6: (any Channel)?
        var sendChannels: [(v4: (any Channel)?, v6: (any Channel)?)] = []
        do {
            if interfaces.contains(where: { $0.device6 != nil }) { recvChannel6 = try await groupSocket("::") }
            for (i, iface) in interfaces.enumerated() {
                var pair: (v4: (any Channel)?, v6: (any Channel)?) = (nil, nil)
                if let device = iface.device, let address = iface.address, let addr = iface.ipv4 {
                    try await (recvChannel as! any MulticastChannel).joinGroup(group, device: device).get()
                    let ch = try await sendSocket(i, to: address)
                    pair.v4 = ch
                    let sop = ch as! any SocketOptionProvider
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
                if let device6 = iface.device6, let address = iface.linkLocal, let recv6 = recvChannel6 {
                    try await (recv6 as! any MulticastChannel).joinGroup(group6, device: device6).get()
                    let ch = try await sendSocket(i, to: address)
                    pair.v6 = ch
                    let sop = ch as! any SocketOptionProvider
                    try await sop.setIPv6MulticastIF(CUnsignedInt(iface.index)).get()
                    try await sop.setIPv6MulticastHops(1).get()
                    try await sop.setIPv6MulticastLoop(1).get()
                    logger.info(
                        "joined LAN group",
                        metadata: [
                            "lan.interface": "\(iface.name)", "lan.group": "[\(LANInterface.ipv6Group)]:\(port)",
                            "lan.unicast": "\(ch.localAddress.map { "\($0)" } ?? "?")",
                        ])
                }
                sendChannels.append(pair)
            }
        } catch {
            try? await recvChannel.close()
            try? await recvChannel6?.close()
            for pair in sendChannels {
                try? await pair.v4?.close()
                try? await pair.v6?.close()
            }
            throw error
        }
        // One line that says which paths this node uses.
        let withBroadcast = interfaces.filter { $0.broadcast != nil }.map(\.name)
        let v4 = interfaces.filter { $0.device != nil }.map(\.name)
        let v6 = interfaces.filter { $0.device6 != nil }.map { i in
            i.device == nil ? i.name : "\(i.name) (\(ipv6 == .on ? "both families" : "when a peer needs it"))"
        }
        logger.info(
            "LAN paths",
            metadata: [
                "lan.multicast": "\(v4.isEmpty ? "none" : v4.joined(separator: ","))",
                "lan.ipv6": "\(ipv6 == .off ? "off" : v6.isEmpty ? "none" : v6.joined(separator: ", "))",
                "lan.broadcast":
                    "\(broadcast == .off || withBroadcast.isEmpty ? "off" : "\(broadcast.rawValue) on \(withBroadcast.joined(separator: ","))")",
                "lan.static_peers": "\(peers.isEmpty ? "none" : staticPeers.joined(separator: ","))",
            ])
        return LANTransport(
            group: group, group6: group6, interfaces: interfaces, staticPeers: peers, receiveChannel: recvChannel,
            receiveChannel6: recvChannel6, sendChannels: sendChannels, inbound: stream, continuation: continuation,
            counters: counters, queued: queued, paths: paths, families: families)
    }

    /// `address` with another port (the scope of a link-local address kept).
    static func withPort(_ address: SocketAddress, _ port: Int) -> SocketAddress {
        switch address {
        case .v4(let a):
            var raw = a.address
            raw.sin_port = in_port_t(UInt16(port).bigEndian)
            return SocketAddress(raw, host: a.host)
        case .v6(let a):
            var raw = a.address
            raw.sin6_port = in_port_t(UInt16(port).bigEndian)
            return SocketAddress(raw, host: a.host)
        case .unixDomainSocket:
            return address
        }
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

    /// Multicasts datagrams, in order, each on every path but its `except`: the group on each interface (and the
    /// subnet's broadcast address while ``LANPaths`` says so; the IPv6 group where the interface has no IPv4 or
    /// ``LANFamilies`` says so), and the static peers by unicast. One hop to each socket's event loop and one flush
    /// for the lot, so a burst leaves in few `sendmmsg` calls instead of one syscall (and one cross-thread hop) per
    /// datagram. Returns the number of datagrams sent to the group (once per interface, whatever the families).
    @discardableResult
    func multicast(_ batch: [(bytes: [UInt8], except: Int?)]) -> Int {
        var n = 0
        let now = LANPaths.monotonicMillis()
        let useBroadcast = paths.withLockedValue { p in (0..<interfaces.count).map { p.broadcastActive($0, now: now) } }
        let useIPv6 = families.withLockedValue { f in (0..<interfaces.count).map { f.ipv6Active($0, now: now) } }
        for (i, pair) in sendChannels.enumerated() {
            let mine = batch.compactMap { $0.except == i ? nil : $0.bytes }
            guard !mine.isEmpty else { continue }
            n += mine.count
            if let ch = pair.v4 {
                var targets = [(group, ["packets_out"])]
                if useBroadcast[i], let b = interfaces[i].broadcast, let port = group.port {
                    if let to = try? SocketAddress(ipAddress: b.ipAddress ?? "", port: port) {
                        targets.append((to, ["packets_out_broadcast"]))
                    }
                }
                send(mine, on: ch, to: targets)
            }
            if let ch = pair.v6, pair.v4 == nil || useIPv6[i] {
                send(mine, on: ch, to: [(group6, ["packets_out", "packets_out_v6"])])
            }
        }
        if !staticPeers.isEmpty {
            let mine = batch.compactMap { $0.except == interfaces.count ? nil : $0.bytes }
            if !mine.isEmpty { send(mine, on: receiveChannel, to: staticPeers.map { ($0, ["packets_out_unicast"]) }) }
        }
        return n
    }

    private func send(_ datagrams: [[UInt8]], on ch: any Channel, to targets: [(SocketAddress, [String])]) {
        let counters = self.counters
        ch.eventLoop.execute {
            for (to, names) in targets {
                for bytes in datagrams {
                    let env = AddressedEnvelope(remoteAddress: to, data: ch.allocator.buffer(bytes: bytes))
                    ch.write(env).whenComplete { result in
                        counters.withLockedValue { c in
                            switch result {
                            case .success: for name in names { c[name, default: 0] += 1 }
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
        try? await receiveChannel6?.close()
        for pair in sendChannels {
            try? await pair.v4?.close()
            try? await pair.v6?.close()
        }
    }
}
