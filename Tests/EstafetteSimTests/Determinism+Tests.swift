import EstafetteCore
import EstafetteSim
import Testing

@Suite struct DeterminismTests {
    /// The same seed replays the same run event for event (trace hash and every metric); another seed does not.
    @Test(.timeLimit(.minutes(5)))
    func sameSeedSameRunDifferentSeedDifferentRun() throws {
        let a = ScenarioOptions(.lossyLAN, seed: 501, nodes: 40, loss: 0.2, envelopes: 20)
        let first = try a.run()
        let second = try a.run()
        #expect(first.passed && second.passed, "\(first.failure?.description ?? second.failure?.description ?? "")")
        #expect(first.metrics.trace == second.metrics.trace, a.note())
        #expect(first.metrics == second.metrics, a.note())
        #expect(first.metrics.events > 1_000, a.note())

        var b = a
        b.seed = 502
        let other = try b.run()
        #expect(other.passed, "\(other.failure?.description ?? "")")
        #expect(other.metrics.trace != first.metrics.trace, b.note())
    }

    /// A run that fails says which seed failed and how to replay it.
    @Test(.timeLimit(.minutes(5)))
    func failurePrintsSeedAndReplayCommand() throws {
        let options = ScenarioOptions(.lossyLAN, seed: 77, nodes: 10, loss: 0.9, envelopes: 10, bound: 1)
        let result = try options.run()
        let failure = try #require(result.failure, options.note("90% loss and a 1 s bound should not converge"))
        #expect(failure.reason.contains("not converged"))
        #expect(failure.description.contains("seed 77"))
        let command = "swift run -c release estafette-sim --scenario lossy-lan --nodes 10 --loss 0.9 --envelopes 10"
        #expect(failure.description.contains("replay: \(command) --bound 1 --seed 77"))
        #expect(!result.metrics.converged)
    }
}
