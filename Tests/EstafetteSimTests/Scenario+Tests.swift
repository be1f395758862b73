import EstafetteCore
import EstafetteSim
import Testing

/// The protocol's properties at scale, on fixed seeds. Envelope counts are chosen so the whole suite stays around a
/// minute in a debug build on two cores; `estafette-sim` runs the same scenarios with the defaults.
@Suite struct ScenarioTests {
    /// 200 nodes on one segment, 20% loss per receiver: every node holds every envelope within 60 s of virtual
    /// time after the last injection (the scenario fails otherwise).
    @Test(.timeLimit(.minutes(10)), arguments: [UInt64(101), 102])
    func lossyLANConverges(seed: UInt64) throws {
        let options = ScenarioOptions(.lossyLAN, seed: seed, nodes: 200, loss: 0.2, envelopes: 50)
        let (_, result) = try runExpectingSuccess(options)
        let m = result.metrics
        #expect(m.converged, options.note())
        #expect((m.convergenceMillis ?? .max) <= 60_000, options.note())
        #expect(m.alerts == 5 && m.messagesDelivered == 5 * 200, options.note())
        #expect(m.lost > 0 && m.duplicated > 0, options.note())
    }

    /// Two halves of 100 each receive their own envelopes, then the partition heals: within 60 s of virtual time
    /// every node holds all of them.
    @Test(.timeLimit(.minutes(10)))
    func partitionsConvergeAfterHealing() throws {
        let options = ScenarioOptions(.partitionHeal, seed: 201, nodes: 200, envelopes: 40)
        let config = try options.makeConfig()
        let heal = config.faults.last!.at
        var simulation = Simulation(config)
        if let failure = simulation.run(until: heal - 1) {
            Issue.record("\(failure)")
            return
        }
        // Just before healing, no envelope has crossed: each side holds exactly its own.
        let half = 100
        for (e, injection) in config.injections.enumerated() {
            let side = injection.node < half ? 0..<half : half..<200
            let other = injection.node < half ? half..<200 : 0..<half
            #expect(side.allSatisfy { simulation.holds(node: $0, envelope: e) }, options.note("side lacks #\(e)"))
            #expect(other.allSatisfy { !simulation.everStored(node: $0, envelope: e) }, options.note("#\(e) crossed"))
        }
        let result = simulation.run()
        #expect(result.failure == nil, "\(result.failure?.description ?? "")")
        #expect(result.metrics.blocked > 0, options.note())
        #expect(virtual(heal) == result.metrics.settleFromMillis, options.note())
        #expect((result.metrics.convergenceMillis ?? .max) <= 60_000, options.note())
    }

    /// Node 0 is away for a simulated day. When it returns it catches up on everything unexpired within 60 s of
    /// virtual time, and never stores the envelopes that expired while it was away.
    @Test(.timeLimit(.minutes(10)))
    func absentNodeCatchesUpWithoutResurrectingExpired() throws {
        let options = ScenarioOptions(.absentNode, seed: 301, nodes: 20, envelopes: 24)
        let config = try options.makeConfig()
        let back = config.faults.last!.at
        let (simulation, result) = try runExpectingSuccess(options)
        #expect((result.metrics.convergenceMillis ?? .max) <= 60_000, options.note())
        let expiredWhileAway = config.injections.indices.filter {
            Millis(config.injections[$0].expiresAt) * 1000 <= back && config.injections[$0].at > config.faults[0].at
        }
        let liveAtReturn = config.injections.indices.filter {
            Millis(config.injections[$0].expiresAt) * 1000 > back + 60_000
        }
        #expect(expiredWhileAway.count >= 3, options.note("the scenario must expire something during the absence"))
        #expect(liveAtReturn.count >= 10, options.note())
        for e in expiredWhileAway {
            #expect(!simulation.everStored(node: 0, envelope: e), options.note("n0 stored expired #\(e)"))
            #expect(!simulation.node(0).holds(config.injections[e].id), options.note("n0 holds expired #\(e)"))
        }
        for e in liveAtReturn {
            #expect(simulation.holds(node: 0, envelope: e), options.note("n0 lacks #\(e) after returning"))
        }
    }

    /// A steady flood of 10-minute envelopes for four lifetimes: what one node holds follows rate × lifetime, not
    /// the total injected; partial envelopes stay under the reassembler's limit; peers never exceed the other nodes.
    @Test(.timeLimit(.minutes(10)))
    func memoryStaysBoundedDuringAFlood() throws {
        let options = ScenarioOptions(.flood, seed: 401, nodes: 10, envelopes: 600, lifetime: 600)
        let (_, result) = try runExpectingSuccess(options)
        let m = result.metrics
        let bound = options.floodEnvelopeBound  // rate 0.25/s × (600 s + 120 s) + 20 = 200
        let peakEnvelopes = m.peaks.map(\.envelopes).max() ?? 0
        #expect(bound == 200, options.note())
        #expect(peakEnvelopes <= bound, options.note("peak \(peakEnvelopes) > \(bound)"))
        #expect(peakEnvelopes >= 150, options.note("the flood should fill stores to about rate × lifetime"))
        #expect(peakEnvelopes < options.resolvedEnvelopes / 2, options.note())
        let limit = MeshNode.Settings().reassembly.maxTotalBytes
        #expect(m.peaks.allSatisfy { $0.reassemblyBytes <= limit }, options.note())
        #expect(m.peaks.allSatisfy { $0.peers <= options.resolvedNodes - 1 }, options.note())
        #expect((m.nodeCounters["envelopes_expired"] ?? 0) > 0, options.note())
    }
}
