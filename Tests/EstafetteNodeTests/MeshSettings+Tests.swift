import EstafetteCore
import EstafetteSim
import Testing

@testable import EstafetteNode

/// The daemon and the simulator run one protocol: the settings the daemon makes from its configuration file are
/// the settings every simulated node gets.
@Suite("The daemon's settings are the simulator's")
struct MeshSettingsTests {
    @Test("an empty config file gives the daemon exactly the simulator's settings, in every scenario")
    func defaultsMatchTheSimulator() throws {
        let daemon = try NodeConfig.load(file: "estafette.toml", text: "").meshSettings
        for scenario in ScenarioName.allCases {
            let sim = try ScenarioOptions(scenario, seed: 1, nodes: 4, envelopes: 2).makeConfig().settings
            #expect(daemon == sim, "\(scenario.rawValue)")
        }
        #expect(daemon.peerTimeoutMillis == 48_000)
    }

    @Test("tuned intervals reach the core, which derives the rest as it does for the simulator")
    func tunedIntervals() throws {
        let text = "[lan]\nbeacon_interval_ms = 2000\nrepair_interval_ms = 6000\n"
        let daemon = try NodeConfig.load(file: "estafette.toml", text: text).meshSettings
        #expect(daemon == MeshNode.Settings(beaconIntervalMillis: 2_000, repairIntervalMillis: 6_000))
        #expect(daemon.peerTimeoutMillis == 96_000)
        var sim = try ScenarioOptions(.lossyLAN, seed: 1, nodes: 4, envelopes: 2).makeConfig()
        sim.settings = MeshNode.Settings(beaconIntervalMillis: 2_000, repairIntervalMillis: 6_000)
        #expect(daemon == sim.settings)
    }
}
