import EstafetteCore
import EstafetteSim
import Testing

/// The simulator must run the daemon's protocol: the same settings, made by the same core function, and envelopes
/// stamped as a node stamps its own.
@Suite("The simulator runs the daemon's settings")
struct DaemonSettingsTests {
    @Test("every scenario's nodes get the settings the daemon makes from its default configuration")
    func scenariosUseTheDaemonsSettings() throws {
        // As estafetted does with the default `lan.beacon_interval_ms` and `lan.repair_interval_ms`
        // (`NodeConfig.meshSettings`, whose defaults are these).
        let daemon = MeshNode.Settings(
            beaconIntervalMillis: MeshNode.Settings.defaultBeaconIntervalMillis,
            repairIntervalMillis: MeshNode.Settings.defaultRepairIntervalMillis)
        for scenario in ScenarioName.allCases {
            let config = try ScenarioOptions(scenario, seed: 1, nodes: 4, envelopes: 2).makeConfig()
            #expect(config.settings == daemon, "\(scenario.rawValue)")
        }
        // Three maximum Trickle intervals of 16 s: what the daemon used, where the simulator used 60 s.
        #expect(daemon.peerTimeoutMillis == 48_000)
    }

    @Test("the peer timeout follows Trickle's maximum interval, and is at least 30 s")
    func peerTimeoutIsDerived() {
        #expect(MeshNode.Settings(beaconIntervalMillis: 2_000).peerTimeoutMillis == 96_000)
        #expect(MeshNode.Settings(beaconIntervalMillis: 100).peerTimeoutMillis == 30_000)
    }

    @Test("the workload's envelopes expire on a whole minute, as the daemon's do")
    func workloadExpiryIsRounded() throws {
        let config = try ScenarioOptions(.lossyLAN, seed: 5, nodes: 4, envelopes: 20).makeConfig()
        #expect(config.injections.count == 20)
        for injection in config.injections {
            let exact = UInt64(injection.at / 1000) + 3_600
            #expect(injection.expiresAt == exact - exact % 60)
        }
        #expect(config.injections.contains { UInt64($0.at / 1000) % 60 != 0 }, "some were not made on a minute")
    }
}
