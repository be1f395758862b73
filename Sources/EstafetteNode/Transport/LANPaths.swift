import NIOCore

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
