import EstafetteCore
import EstafetteSim
import Testing

/// Islands joined by relays: real `MeshNode`s on lossy LAN segments, one gateway per island linked to a relay in
/// a ring of five with the real `RelayLinkStateMachine`, relays that crash and return. The CLI's city (50 islands
/// of 20) with 20 envelopes rather than 200, so the test takes about 16 s in a debug build.
@Suite struct IslandsTests {
    /// 50 islands of 20 nodes, 5% loss on every LAN, a ring of five relays of which three crash for 10 s while
    /// envelopes are injected at random nodes: every node on every island ends holding every envelope, and the
    /// relay links carry each envelope about once per link it must cross.
    @Test(.timeLimit(.minutes(5)))
    func fiftyIslandsConvergeThroughRelayCrashes() throws {
        let options = ScenarioOptions(.islands, seed: 2_026, envelopes: 20)
        let (simulation, result) = try runExpectingSuccess(options)
        let m = result.metrics
        let relay = try #require(m.relay, options.note("no relay metrics"))
        print(m.lines.filter { $0.key.hasPrefix("relay.") || $0.key.contains("_ms") || $0.key.hasPrefix("datagrams_") })
        #expect(m.nodes == 1_000 && m.segments == 50, options.note())
        #expect(relay.crashes == 3 && relay.gatewayLinks == 50 && relay.relayLinks == 5, options.note())
        #expect(m.converged, options.note())
        #expect((m.convergenceMillis ?? .max) <= 60_000, options.note())
        #expect((0..<1_000).allSatisfy { n in (0..<20).allSatisfy { simulation.holds(node: n, envelope: $0) } })
        #expect(m.alerts == 2 && m.messagesDelivered == 2 * 1_000, options.note())
        // Each crash cuts the relay's links; they come back through the backoff.
        #expect(relay.connections > relay.gatewayLinks + relay.relayLinks, options.note())
        // An envelope must leave its island (1 record), go round the ring to the four other relays (4) and down
        // to the 49 other gateways (49): 54 records at least; what crashes make the links send again is small.
        let records = Double(relay.envelopeRecords) / Double(m.envelopes)
        #expect(records >= 54 && records <= 60, options.note("records per envelope \(records)"))
        // 33.8 KB per envelope when measured (2026-12-02): records of 200-4000-byte envelopes, their acks, the
        // handshakes and reconciliations of 85 connections.
        let bytes = Double(relay.relayLinkBytes + relay.gatewayLinkBytes) / Double(m.envelopes)
        #expect(bytes <= 40_000, options.note("relay link bytes per envelope \(bytes)"))
        let datagrams = Double(m.transmissions.joined().reduce(0, +)) / Double(m.envelopes)
        #expect(datagrams <= 800, options.note("LAN datagrams per envelope \(datagrams)"))
    }

    /// 12 islands of 10 nodes: the same seed replays the same run (trace hash and every metric), relays included.
    @Test(.timeLimit(.minutes(5)))
    func sameSeedSameCity() throws {
        let options = ScenarioOptions(
            .islands, seed: 1_101, nodes: 120, loss: 0.05, envelopes: 30, segments: 12, relays: 5, crashes: 3)
        let (simulation, first) = try runExpectingSuccess(options)
        let second = try options.run()
        // Envelopes from other islands come in through the gateways' links (`receiveFromLink`), and only there.
        let gateways = Set(try #require(try options.makeConfig().relays).gateways.map(\.node))
        for n in 0..<120 {
            let fromLinks = simulation.node(n).counters["relay.envelopes_in"]
            #expect(gateways.contains(n) ? fromLinks > 0 : fromLinks == 0, options.note("node n\(n): \(fromLinks)"))
        }
        #expect(first.passed && second.passed, "\(first.failure?.description ?? second.failure?.description ?? "")")
        #expect(first.metrics.trace == second.metrics.trace, options.note())
        #expect(first.metrics == second.metrics, options.note())
        let records = Double(first.metrics.relay?.envelopeRecords ?? 0) / 30
        #expect(records >= 16 && records <= 22, options.note("records per envelope \(records)"))
    }

    /// The islands scenario builds the city it names: islands of equal size, one gateway each, on its relay.
    @Test func islandsTopology() throws {
        let config = try ScenarioOptions(.islands, seed: 3, nodes: 1_000, envelopes: 2).makeConfig()
        #expect(config.topology.segmentCount == 50)
        #expect(config.topology.members.allSatisfy { $0.count == 20 })
        let plan = try #require(config.relays)
        #expect(plan.relays == 5 && plan.ring && plan.crashes.count == 3)
        #expect(plan.gateways.count == 50)
        #expect(plan.gateways.enumerated().allSatisfy { s, g in g.node == 20 * s && g.relay == s % 5 })
    }
}
