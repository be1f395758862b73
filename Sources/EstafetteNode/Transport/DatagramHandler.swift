import EstafetteCore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Moves datagrams from a socket into the transport's bounded queue.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let continuation: AsyncStream<InboundDatagram>.Continuation
    let interfaces: [LANInterface]
    /// The interface of a per-interface socket; nil for the shared group socket (the subnet decides).
    let fixedInterface: Int?
    /// The mesh group: the only destination the group socket takes.
    let group: SocketAddress
    /// The IPv6 group: the only destination the IPv6 group socket takes.
    let group6: SocketAddress
    let counters: NIOLockedValueBox<[String: Int64]>
    let ownSources: NIOLockedValueBox<Set<SocketAddress>>
    let queued: NIOLockedValueBox<SourceQueue>
    let paths: NIOLockedValueBox<LANPaths>
    let families: NIOLockedValueBox<LANFamilies>
    let logger: Logger

    init(
        continuation: AsyncStream<InboundDatagram>.Continuation, interfaces: [LANInterface], fixedInterface: Int?,
        group: SocketAddress, group6: SocketAddress, counters: NIOLockedValueBox<[String: Int64]>,
        ownSources: NIOLockedValueBox<Set<SocketAddress>>, queued: NIOLockedValueBox<SourceQueue>,
        paths: NIOLockedValueBox<LANPaths>, families: NIOLockedValueBox<LANFamilies>, logger: Logger
    ) {
        self.group6 = group6
        self.families = families
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
        } else if case .v6 = remote {
            // IPv6: multicasts to the group from a link-local neighbour on the interface they came in on; no
            // broadcast, no static peers.
            let info = env.metadata?.packetInfo
            if let info, info.destinationAddress.ipAddress != group6.ipAddress { return drop("not_to_group") }
            guard
                let found = interfaces.firstIndex(where: {
                    $0.device6 != nil && LANInterface.isLinkLocal(remote, onInterface: $0.index)
                }), info.map({ $0.interfaceIndex == interfaces[found].index }) ?? true
            else { return drop("off_subnet") }
            iface = found
            if interfaces[found].device != nil, isDuplicate(env.data, from: remote, on: found, v6: true) { return }
            counters.withLockedValue { $0["packets_in_v6", default: 0] += 1 }
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
                    interfaces.firstIndex { $0.index == info.interfaceIndex }
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
                if !byBroadcast, interfaces[found].device6 != nil,
                    isDuplicate(env.data, from: remote, on: found, v6: false)
                {
                    return
                }
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

    /// Whether a multicast on dual-stack interface `i` already came by the other family (``LANFamilies``): then it
    /// is counted (`dup_family`) and not handed on.
    private func isDuplicate(_ data: ByteBuffer, from remote: SocketAddress, on i: Int, v6: Bool) -> Bool {
        var h = Hasher()
        data.withUnsafeReadableBytes { h.combine(bytes: $0) }
        let digest = h.finalize()
        let now = LANPaths.monotonicMillis()
        let (verdict, turnedOn) = families.withLockedValue { f in
            let before = f.ipv6Active(i, now: now)
            let verdict = f.heard(interface: i, source: remote.ipAddress ?? "?", v6: v6, digest: digest, nowMillis: now)
            return (verdict, !before && f.ipv6Active(i, now: now))
        }
        if turnedOn {
            logger.info(
                "a peer is heard only by IPv6: also sending by IPv6",
                metadata: ["lan.interface": "\(interfaces[i].name)", "lan.source": "\(remote)"])
        }
        guard verdict == .duplicate else { return false }
        counters.withLockedValue { $0["dup_family", default: 0] += 1 }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket error (e.g. ICMP unreachable for a departed peer) is not fatal.
        counters.withLockedValue { $0["socket_errors", default: 0] += 1 }
    }
}

@available(*, unavailable)
extension DatagramHandler: Sendable {}
