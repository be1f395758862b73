import EstafetteCore

/// How a datagram fares between one sender and one receiver. Every receiver of a multicast draws its own fate, so
/// loss is independent per receiver and per datagram; reordering falls out of the jitter.
public struct LinkModel: Sendable, Equatable {
    /// Probability that one receiver misses one datagram.
    public var loss: Double
    /// Probability that a datagram that arrives arrives twice (each copy with its own delay).
    public var duplicate: Double
    /// Smallest one-way delay.
    public var baseDelayMillis: Millis
    /// Added delay, uniform in `0...jitterMillis`.
    public var jitterMillis: Millis

    public init(loss: Double, duplicate: Double = 0.01, baseDelayMillis: Millis = 1, jitterMillis: Millis = 20) {
        precondition((0...1).contains(loss) && (0...1).contains(duplicate), "probabilities must be in 0...1")
        precondition(baseDelayMillis >= 0 && jitterMillis >= 0, "delays must not be negative")
        self.loss = loss
        self.duplicate = duplicate
        self.baseDelayMillis = baseDelayMillis
        self.jitterMillis = jitterMillis
    }
}

/// Which LAN segment each interface of each node is on. A node with two interfaces on two segments bridges them
/// (the core forwards new envelopes to its other interfaces).
public struct Topology: Sendable, Equatable {
    /// One interface of one node.
    public struct Attachment: Sendable, Equatable {
        public let node: Int
        public let interface: Int
    }

    /// `interfaces[node][k]` is the segment of interface `k` of `node`.
    public let interfaces: [[Int]]
    public let segmentCount: Int
    /// The interfaces on each segment, in node order.
    public let members: [[Attachment]]

    public init(interfaces: [[Int]]) {
        precondition(interfaces.allSatisfy { !$0.isEmpty }, "every node needs an interface")
        let segmentCount = (interfaces.lazy.flatMap { $0 }.max() ?? -1) + 1
        var members = Array(repeating: [Attachment](), count: segmentCount)
        for (node, segments) in interfaces.enumerated() {
            for (k, s) in segments.enumerated() {
                precondition(s >= 0, "segment numbers start at 0")
                members[s].append(Attachment(node: node, interface: k))
            }
        }
        self.interfaces = interfaces
        self.segmentCount = segmentCount
        self.members = members
    }

    public var nodeCount: Int { interfaces.count }

    /// Every node on segment 0.
    public static func oneSegment(nodes: Int) -> Topology {
        Topology(interfaces: Array(repeating: [0], count: nodes))
    }

    /// `segments` segments in a chain: node `i` is on segment `i % segments`, and node `s` (for `s` below
    /// `segments - 1`) also has a second interface on segment `s + 1`, bridging the two.
    public static func chain(nodes: Int, segments: Int) -> Topology {
        precondition(segments >= 1 && nodes >= segments, "a chain of \(segments) segments needs that many nodes")
        guard segments > 1 else { return oneSegment(nodes: nodes) }
        return Topology(
            interfaces: (0..<nodes).map { i in
                i < segments - 1 ? [i, i + 1] : [i % segments]
            })
    }
}

/// A change of partitions at a virtual time.
public struct FaultChange: Sendable, Equatable {
    public let at: Millis
    /// The group of every node; nodes in different groups cannot hear each other. `nil` heals every partition.
    public let groups: [Int]?

    public init(at: Millis, groups: [Int]?) {
        self.at = at
        self.groups = groups
    }
}

/// What kind of datagram was sent, read by opening it with the mesh key (the simulator knows the key).
public enum DatagramKind: Int, CaseIterable, Sendable {
    case beacon, envelope, fragment, inventory, want, coded, other, summary

    public var name: String {
        switch self {
        case .beacon: return "beacon"
        case .envelope: return "envelope"
        case .fragment: return "fragment"
        case .inventory: return "inventory"
        case .want: return "want"
        case .coded: return "coded"
        case .other: return "other"
        case .summary: return "summary"
        }
    }

    /// The kind of a datagram and how much of an envelope it carries (1 for a whole one, 1/n for one of n
    /// fragments or their parity, 1 for a coded combination of envelopes, 0 for control traffic). `if case` rather
    /// than `switch`, so new packet types count as `other`.
    static func classify(_ datagram: [UInt8], key: MeshKey) -> (kind: DatagramKind, envelopeShare: Double) {
        guard let (_, packet) = try? key.open(datagram) else { return (.other, 0) }
        if case .beacon = packet { return (.beacon, 0) }
        if case .envelope = packet { return (.envelope, 1) }
        if case .fragment(_, _, let total, _) = packet {
            let pieces = max(1, (Int(total) + Packet.maxChunkBytes - 1) / Packet.maxChunkBytes)
            return (.fragment, 1 / Double(pieces))
        }
        if case .parity(_, let total, _, _) = packet {
            // Counted like one more fragment of the envelope.
            let pieces = max(1, (Int(total) + Packet.maxChunkBytes - 1) / Packet.maxChunkBytes)
            return (.fragment, 1 / Double(pieces))
        }
        if case .inventory = packet { return (.inventory, 0) }
        if case .want = packet { return (.want, 0) }
        if case .coded = packet { return (.coded, 1) }
        if case .summary = packet { return (.summary, 0) }
        return (.other, 0)
    }
}
