import EstafetteCore
import EstafetteSim
import Testing

@Suite struct NetworkTests {
    /// Loss is drawn per receiver and per datagram: the share lost matches the probability.
    @Test(.timeLimit(.minutes(5)))
    func lossRateMatchesTheModel() throws {
        let options = ScenarioOptions(.lossyLAN, seed: 601, nodes: 30, loss: 0.3, envelopes: 10)
        let (_, result) = try runExpectingSuccess(options)
        let m = result.metrics
        let share = Double(m.lost) / Double(m.linkAttempts)
        #expect(abs(share - 0.3) < 0.03, options.note("lost share \(share)"))
        #expect(m.blocked == 0, options.note())
    }

    /// Three segments chained by bridging nodes: envelopes cross the bridges and every segment carries them.
    @Test(.timeLimit(.minutes(5)))
    func envelopesCrossBridgedSegments() throws {
        let options = ScenarioOptions(.lossyLAN, seed: 602, nodes: 30, loss: 0.1, envelopes: 12, segments: 3)
        let (_, result) = try runExpectingSuccess(options)
        let m = result.metrics
        #expect(m.segments == 3, options.note())
        for s in 0..<3 {
            #expect(m.envelopeTransmissions[s] >= Double(m.envelopes), options.note("segment \(s)"))
        }
    }

    @Test func chainTopologyBridgesNeighbours() {
        let t = Topology.chain(nodes: 7, segments: 3)
        #expect(t.interfaces[0] == [0, 1])
        #expect(t.interfaces[1] == [1, 2])
        #expect(t.interfaces[2] == [2])
        #expect(t.interfaces[3] == [0])
        #expect(t.segmentCount == 3)
        #expect(t.members[1].map(\.node) == [0, 1, 4])
    }
}
