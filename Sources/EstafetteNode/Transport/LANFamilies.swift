/// Which family a node multicasts in on a dual-stack interface (`lan.ipv6 = "auto"`), from what it hears. Nearly
/// every LAN is dual-stack (every interface has an IPv6 link-local address), so sending each datagram by both
/// families would double all traffic for nothing. Per interface that has both:
/// - a node sends by IPv4 only, unless a peer is heard by IPv6 only (its datagrams do not also come by IPv4: it
///   has no IPv4 address, or IPv4 multicast does not reach us); then it also sends by IPv6, for `windowMillis`
///   after that peer was last heard, so that the peer hears it;
/// - a datagram heard by both families (the same bytes, within `duplicateMillis`) is taken once: the second copy
///   is dropped before the core, and its IPv6 source is known to be dual-stack (its IPv6 copies are courtesy
///   copies, not a sign of a peer that needs them), so two dual-stack nodes that send both ways because of a third
///   do not keep each other doing so once the third is gone.
/// An interface with IPv6 only always sends by IPv6 (the transport decides that). Bounded: at most `maxEntries`
/// datagram digests and `maxSources` sources remembered per interface.
struct LANFamilies: Sendable {
    let mode: LANIPv6
    let windowMillis: Int64
    /// How long a datagram's digest is remembered to match its copy in the other family.
    static let duplicateMillis: Int64 = 2_000
    static let maxEntries = 1_024
    static let maxSources = 256

    private struct Seen: Sendable {
        var v6: Bool
        var source: String
        var at: Int64
    }

    private struct Link: Sendable {
        var seen: [Int: Seen] = [:]
        /// Digests in arrival order, to forget the oldest first.
        var order: [Int] = []
        var head = 0
        /// IPv6 sources whose datagrams did not also come by IPv4, and when last heard.
        var v6Only: [String: Int64] = [:]
        /// IPv6 sources known to send by IPv4 too, and when last matched (a node that loses its IPv4 address is
        /// counted as IPv6-only a window later).
        var dual: [String: Int64] = [:]
    }

    private var links: [Link]

    init(mode: LANIPv6, interfaceCount: Int, windowMillis: Int64) {
        self.mode = mode
        self.windowMillis = windowMillis
        links = Array(repeating: Link(), count: interfaceCount)
    }

    /// Whether a dual-stack interface `i` also sends by IPv6 now.
    func ipv6Active(_ i: Int, now: Int64) -> Bool {
        switch mode {
        case .off: return false
        case .on: return true
        case .auto: return links[i].v6Only.values.contains { now - $0 <= windowMillis }
        }
    }

    /// How many IPv6-only peers are heard on interface `i` now.
    func ipv6OnlySources(_ i: Int, now: Int64) -> Int {
        links[i].v6Only.values.filter { now - $0 <= windowMillis }.count
    }

    enum Verdict: Equatable {
        /// New: hand it to the core.
        case fresh
        /// The same datagram came by the other family already: drop it.
        case duplicate
    }

    /// Notes a multicast datagram (its `digest`) from `source` on dual-stack interface `i`, by IPv6 or IPv4.
    mutating func heard(interface i: Int, source: String, v6: Bool, digest: Int, nowMillis now: Int64) -> Verdict {
        var link = links[i]
        defer { links[i] = link }
        if let earlier = link.seen[digest], earlier.v6 != v6, now - earlier.at <= Self.duplicateMillis {
            let v6Source = v6 ? source : earlier.source
            link.v6Only[v6Source] = nil
            remember(&link.dual, v6Source, now)
            return .duplicate
        }
        if link.seen[digest] == nil {
            if link.order.count - link.head >= Self.maxEntries {
                link.seen[link.order[link.head]] = nil
                link.head += 1
                if link.head >= Self.maxEntries {
                    link.order.removeFirst(link.head)
                    link.head = 0
                }
            }
            link.order.append(digest)
        }
        link.seen[digest] = Seen(v6: v6, source: source, at: now)
        if v6, !(link.dual[source].map { now - $0 <= windowMillis } ?? false) {
            remember(&link.v6Only, source, now)
        }
        return .fresh
    }

    private func remember(_ table: inout [String: Int64], _ source: String, _ now: Int64) {
        if table[source] == nil, table.count >= Self.maxSources,
            let oldest = table.min(by: { $0.value < $1.value })?.key
        {
            table[oldest] = nil
        }
        table[source] = now
    }
}
