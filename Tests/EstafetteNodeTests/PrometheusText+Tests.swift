import EstafetteAPI
import Testing

@testable import EstafetteNode

@Suite("Prometheus text") struct PrometheusTextTests {
    @Test("counters end in _total, drops are one family by reason, label values are escaped")
    func render() {
        let status = NodeStatus(
            id: "es1", version: "0.1.0\"x", peers: 3, envelopes: 7, uptime_s: 12,
            counters: ["packets_in": 5, "drop.bad_signature": 2, "drop.expired": 1, "odd-name.x": 4])
        let text = PrometheusText.render(status)
        #expect(text.contains("# TYPE estafette_uptime_seconds gauge\nestafette_uptime_seconds 12\n"))
        #expect(text.contains("estafette_peers 3\n"))
        #expect(text.contains("estafette_envelopes_stored 7\n"))
        #expect(text.contains("# TYPE estafette_packets_in_total counter\nestafette_packets_in_total 5\n"))
        #expect(
            text.contains(
                "# TYPE estafette_drops_total counter\nestafette_drops_total{reason=\"bad_signature\"} 2\n"
                    + "estafette_drops_total{reason=\"expired\"} 1\n"))
        #expect(text.contains("estafette_odd_name_x_total 4\n"))
        #expect(text.contains("estafette_build_info{version=\"0.1.0\\\"x\"} 1\n"))
        #expect(!text.contains("drop."))
    }
}
