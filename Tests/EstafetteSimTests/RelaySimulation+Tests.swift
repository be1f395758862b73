import EstafetteSim
import Testing

@Suite("Relay simulation: relays in a ring and a chain, crashes and returns")
struct RelaySimulationTests {
    @Test(.timeLimit(.minutes(10)))
    func ringOfFiveConvergesThroughCrashes() {
        var config = RelaySimulation.Config()
        config.relays = 5
        config.ring = true
        config.envelopes = 2_000
        config.crashes = 3
        var sim = RelaySimulation(config)
        let report = sim.run()
        print(
            "relay sim (ring of 5, \(config.envelopes) envelopes, \(config.crashes) crashes): converged after "
                + "\(report.convergedAfterMillis.map { "\($0) ms" } ?? "never"), "
                + "\(Int(report.bytesPerEnvelopeCarried)) link bytes per envelope, \(report.reconciliationRounds) rounds"
        )
        #expect(report.convergedAfterMillis != nil)
        // An envelope record is about 340 bytes (a 315-byte envelope, type byte, tag, length). Pushed both ways
        // round the ring it crosses 6 of the 10 link directions (the two far relays swap duplicates); with acks
        // and reconciliation it must stay under every direction once: 10 × 400 bytes.
        #expect(report.bytesPerEnvelopeCarried < 4_000)
    }

    @Test(.timeLimit(.minutes(10)))
    func chainOfFiveConvergesThroughCrashes() {
        var config = RelaySimulation.Config()
        config.ring = false
        config.envelopes = 1_000
        config.crashes = 4
        config.seed = 7
        var sim = RelaySimulation(config)
        let report = sim.run()
        print(
            "relay sim (chain of 5, \(config.envelopes) envelopes, \(config.crashes) crashes): converged after "
                + "\(report.convergedAfterMillis.map { "\($0) ms" } ?? "never"), "
                + "\(Int(report.bytesPerEnvelopeCarried)) link bytes per envelope")
        #expect(report.convergedAfterMillis != nil)
    }
}
