import EstafetteCore

/// What a run measured. Equal for two runs with the same configuration.
public struct Metrics: Sendable, Equatable {
    /// The largest `stateSize` one node reached, field by field.
    public struct Peak: Sendable, Equatable {
        public var envelopes = 0
        public var peers = 0
        public var reassemblyBytes = 0
        public var partialEnvelopes = 0
        public var pendingRepairs = 0
    }

    public let scenario: String
    public let seed: UInt64
    public let nodes: Int
    public let segments: Int
    public let envelopes: Int
    public let alerts: Int

    /// Virtual ms from the start to the later of the last injection and the last partition change.
    public var settleFromMillis: Millis = 0
    /// Virtual ms from `settleFromMillis` until every node held every unexpired envelope; nil if never.
    public var convergenceMillis: Millis?
    /// Virtual ms the run lasted.
    public var virtualMillis: Millis = 0
    public var events = 0
    public var trace = TraceHash()

    /// `transmissions[segment][kind]`: a multicast counts once per segment it goes out on, a unicast once.
    public var transmissions: [[Int]]
    /// Per segment, datagrams carrying an envelope (a fragment of one of n counts 1/n).
    public var envelopeTransmissions: [Double]
    /// (datagram, receiver) pairs that reached the loss draw (not blocked by a partition).
    public var linkAttempts = 0
    /// Datagrams handed to a running node (duplicates included).
    public var deliveries = 0
    public var lost = 0
    public var duplicated = 0
    public var blocked = 0
    public var notRunning = 0
    public var sendStoredMissing = 0
    public var stores = 0
    public var messagesDelivered = 0
    public var peaks: [Peak]
    /// Per envelope, virtual ms from its injection until every node held it (nil if that never happened).
    public var spreadMillis: [Millis?]
    /// What the relay links carried, when the run has relays.
    public var relay: RelayMetrics?
    /// Bytes sent per datagram kind (a multicast once per segment) from `settleFromMillis` on: what a catch-up
    /// costs. Listed for runs with a preloaded store (`SimConfig.preloadShared`).
    public var bytesAfterSettle: [Int]
    let listsBytes: Bool
    /// Sum over nodes of the core's own counters, for a few names.
    public var nodeCounters: [String: Int64] = [:]

    init(config: SimConfig) {
        scenario = config.name
        seed = config.seed
        nodes = config.nodeCount
        segments = config.topology.segmentCount
        envelopes = config.injections.count
        alerts = config.injections.filter(\.isAlert).count
        transmissions = Array(repeating: Array(repeating: 0, count: DatagramKind.allCases.count), count: segments)
        envelopeTransmissions = Array(repeating: 0, count: segments)
        peaks = Array(repeating: Peak(), count: nodes)
        spreadMillis = Array(repeating: nil, count: envelopes)
        bytesAfterSettle = Array(repeating: 0, count: DatagramKind.allCases.count)
        listsBytes = config.preloadShared > 0
    }

    mutating func noteBytesAfterSettle(_ kind: DatagramKind, _ bytes: Int) {
        bytesAfterSettle[kind.rawValue] += bytes
    }

    /// Bytes after settling of everything that carries no envelope (beacons, inventories, summaries, wants).
    public var protocolBytesAfterSettle: Int {
        DatagramKind.allCases.reduce(0) { sum, kind in
            kind == .envelope || kind == .fragment || kind == .coded ? sum : sum + bytesAfterSettle[kind.rawValue]
        }
    }

    mutating func noteTransmission(_ kind: DatagramKind, share: Double, segment: Int) {
        transmissions[segment][kind.rawValue] += 1
        envelopeTransmissions[segment] += share
    }

    mutating func notePeak(_ n: Int, _ s: MeshNode.StateSize) {
        var p = peaks[n]
        p.envelopes = max(p.envelopes, s.envelopes)
        p.peers = max(p.peers, s.peers)
        p.reassemblyBytes = max(p.reassemblyBytes, s.reassemblyBytes)
        p.partialEnvelopes = max(p.partialEnvelopes, s.partialEnvelopes)
        p.pendingRepairs = max(p.pendingRepairs, s.pendingRepairs)
        peaks[n] = p
    }

    /// The node with the largest peak of one field, and that peak.
    public func worst(_ field: KeyPath<Peak, Int>) -> (node: Int, peak: Int)? {
        var best: (node: Int, peak: Int)? = nil
        for (n, p) in peaks.enumerated() where best == nil || p[keyPath: field] > best!.peak {
            best = (n, p[keyPath: field])
        }
        return best
    }

    mutating func finish(sim: Simulation, settleFrom: Millis) {
        settleFromMillis = settleFrom - SimConfig.epoch
        convergenceMillis = sim.convergedAt.map { $0 - settleFrom }
        virtualMillis = sim.now - SimConfig.epoch
        trace = sim.traceHash
        relay = sim.relayLayer?.finished()
        let names = [
            "packets_in", "envelopes_new", "envelopes_duplicate", "inventory_rounds", "envelopes_expired",
            "repair_bursts", "bursts_deferred", "repairs_suppressed", "coded_sent", "whole_repairs_sent",
            "coded_useful", "coded_redundant", "envelopes_decoded", "wants_sent", "wants_suppressed",
            "wants_crossed_burst",
            "inventories_deferred", "summary_rounds", "summaries_received", "range_answers_sent",
            "range_answers_suppressed", "range_answers_recent", "claims_failed", "inventories_suppressed",
        ]
        for name in names {
            nodeCounters[name] = (0..<nodes).reduce(0) { $0 + sim.node($1).counters[name] }
        }
        sendStoredMissing = (0..<nodes).reduce(0) { $0 + Int(sim.node($1).counters["repair_envelopes_unavailable"]) }
        for n in 0..<nodes {
            for (name, value) in sim.node(n).counters.values where name.hasPrefix("drop.") {
                nodeCounters[name, default: 0] += value
            }
        }
    }

    public var converged: Bool { convergenceMillis != nil }

    /// Up to this many segments, `lines` has a block per segment.
    static let segmentsListed = 10

    /// Control datagrams (everything that carries no envelope) on one segment.
    public func controlTransmissions(segment s: Int) -> Int {
        transmissions[s].enumerated().reduce(0) { sum, item in
            let kind = DatagramKind(rawValue: item.offset)!
            return kind == .envelope || kind == .fragment || kind == .coded ? sum : sum + item.element
        }
    }

    /// The metrics as `key: value` lines, in a fixed order.
    public var lines: [(key: String, value: String)] {
        var out: [(String, String)] = [
            ("scenario", scenario), ("seed", "\(seed)"), ("nodes", "\(nodes)"), ("segments", "\(segments)"),
            ("envelopes", "\(envelopes)"), ("alerts", "\(alerts)"), ("converged", converged ? "yes" : "no"),
            ("settle_from_ms", "\(settleFromMillis)"),
            ("convergence_ms", convergenceMillis.map { "\($0)" } ?? "none"),
            ("virtual_ms", "\(virtualMillis)"), ("events", "\(events)"), ("trace", "\(trace)"),
        ]
        let perEnvelope = Double(max(1, envelopes))
        // Many segments (islands): their sums and the busiest segment, not a block of lines each.
        let perSegment = segments <= Self.segmentsListed
        for s in 0..<segments where perSegment {
            for kind in DatagramKind.allCases {
                out.append(("datagrams.seg\(s).\(kind.name)", "\(transmissions[s][kind.rawValue])"))
            }
            out.append(("envelope_tx_per_envelope.seg\(s)", fixed(envelopeTransmissions[s] / perEnvelope)))
            out.append(("control_per_envelope.seg\(s)", fixed(Double(controlTransmissions(segment: s)) / perEnvelope)))
        }
        let spreads = spreadMillis.compactMap { $0 }.sorted()
        out.append(("spread_ms.complete", "\(spreads.count)"))
        if !spreads.isEmpty {
            out.append(("spread_ms.median", "\(spreads[spreads.count / 2])"))
            out.append(("spread_ms.p90", "\(spreads[min(spreads.count - 1, spreads.count * 9 / 10)])"))
            out.append(("spread_ms.max", "\(spreads.last!)"))
        }
        if !perSegment {
            for kind in DatagramKind.allCases {
                out.append(("datagrams.\(kind.name)", "\(transmissions.reduce(0) { $0 + $1[kind.rawValue] })"))
            }
            let busiest = envelopeTransmissions.max() ?? 0
            out.append(("envelope_tx_per_envelope.busiest_segment", fixed(busiest / perEnvelope)))
            let control = (0..<segments).map { controlTransmissions(segment: $0) }.max() ?? 0
            out.append(("control_per_envelope.busiest_segment", fixed(Double(control) / perEnvelope)))
        }
        let total = transmissions.joined().reduce(0, +)
        out.append(("datagrams.total", "\(total)"))
        out.append(("datagrams_per_envelope", fixed(Double(total) / perEnvelope)))
        if let relay { out += relay.lines(envelopes: envelopes) }
        if listsBytes {
            for kind in DatagramKind.allCases {
                out.append(("bytes_after_settle.\(kind.name)", "\(bytesAfterSettle[kind.rawValue])"))
            }
            out.append(("protocol_bytes_after_settle", "\(protocolBytesAfterSettle)"))
        }
        out += [
            ("link_attempts", "\(linkAttempts)"), ("deliveries", "\(deliveries)"), ("lost", "\(lost)"),
            ("duplicated", "\(duplicated)"),
            ("blocked_by_partition", "\(blocked)"), ("to_node_not_running", "\(notRunning)"),
            ("send_stored_missing", "\(sendStoredMissing)"), ("stores", "\(stores)"),
            ("messages_delivered", "\(messagesDelivered)"),
        ]
        let fields: [(String, KeyPath<Peak, Int>)] = [
            ("envelopes", \.envelopes), ("peers", \.peers), ("reassembly_bytes", \.reassemblyBytes),
            ("partial_envelopes", \.partialEnvelopes), ("pending_repairs", \.pendingRepairs),
        ]
        for (name, field) in fields {
            let values = peaks.map { $0[keyPath: field] }
            out.append(("peak.\(name).max", "\(values.max() ?? 0)"))
            out.append(("peak.\(name).mean", fixed(Double(values.reduce(0, +)) / Double(max(1, values.count)))))
        }
        for name in nodeCounters.keys.sorted() {
            out.append(("node_counters.\(name)", "\(nodeCounters[name]!)"))
        }
        return out
    }
}

/// Two decimals, without Foundation.
public func fixed(_ x: Double) -> String {
    let hundredths = Int((x * 100).rounded())
    let frac = String(abs(hundredths) % 100)
    return "\(hundredths < 0 ? "-" : "")\(abs(hundredths) / 100).\(frac.count == 1 ? "0" : "")\(frac)"
}
