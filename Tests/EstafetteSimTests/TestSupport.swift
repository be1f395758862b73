import EstafetteCore
import EstafetteSim
import Testing

/// Runs a scenario and records a failed expectation (with the seed and replay command) if it failed.
func runExpectingSuccess(
    _ options: ScenarioOptions, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (Simulation, SimResult) {
    var simulation = Simulation(try options.makeConfig())
    let result = simulation.run()
    #expect(result.failure == nil, "\(result.failure?.description ?? "")", sourceLocation: sourceLocation)
    return (simulation, result)
}

extension ScenarioOptions {
    /// An expectation message that says how to replay the run.
    func note(_ text: String = "") -> Comment {
        Comment(rawValue: "\(text)\nseed \(seed); replay: \(replayCommand)")
    }
}

/// Virtual ms from the epoch of a run.
func virtual(_ t: Millis) -> Millis { t - SimConfig.epoch }
