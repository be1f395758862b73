import EstafetteCore
import EstafetteSim
import Testing

/// Islands joined by relays: real `MeshNode`s on lossy LAN segments, one gateway per island linked to a relay in
/// a ring of five with the real `RelayLinkStateMachine`, relays that crash and return. A smaller city than the
/// CLI's default (50 islands of 20, docs/simulator.md), so the suite stays fast in a debug build.
@Suite struct IslandsTests {
    static let options = ScenarioOptions(
        .islands, seed: 1_101, nodes: 120, loss: 0.05, envelopes: 30, segments: 12, relays: 5, crashes: 3)

    /// Every node on every island ends holding every envelope, through relay crashes; the relay links carry each
    /// envelope about once per link they must cross, and the same seed replays the same run.
    @Test(.timeLimit(.minutes(5)))
    func everyIslandConvergesThroughRelayCrashes() throws {
        let options = Self.options
        let (simulation, result) = try runExpectingSuccess(options)
        let m = result.metrics
        let relay = try #require(m.relay, options.note("no relay metrics"))
        print(m.lines.filter { $0.key.hasPrefix("relay.") || $0.key.contains("_ms") || $0.key == "events" })
        #expect(m.converged, options.note())
        #expect((m.convergenceMillis ?? .max) <= 60_000, options.note())
        #expect(m.segments == 12 && m.nodes == 120, options.note())
        #expect(relay.crashes == 3 && relay.gatewayLinks == 12 && relay.relayLinks == 5, options.note())
        // Each crash cuts the relay's links; they come back through the backoff.
        #expect(relay.connections > relay.gatewayLinks + relay.relayLinks, options.note())
        // An envelope record is its bytes plus a few of framing. Each envelope must reach 11 other gateways and
        // cross the ring: at least 12 records, and no more than every link direction once (34) with some slack
        // for what a crash made the links send again.
        let records = Double(relay.envelopeRecords) / Double(m.envelopes)
        #expect(records >= 12 && records <= 40, options.note("records per envelope \(records)"))
        #expect(m.alerts == 3 && m.messagesDelivered == 3 * 120, options.note())
        #expect((0..<120).allSatisfy { n in (0..<30).allSatisfy { simulation.holds(node: n, envelope: $0) } })

        let again = try options.run()
        #expect(again.metrics.trace == m.trace, options.note("the same seed gave another run"))
        #expect(again.metrics == m, options.note())
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
