import EstafetteCore
import EstafetteSim
import Testing

/// Issue 11: a node rejoining a LAN whose nodes hold a large store, and that misses (or alone holds) 100 envelopes,
/// catches up with protocol traffic that follows the 100, not the store, when range summaries are on. The release
/// figure at 100,000 envelopes is in docs/simulator.md (`estafette-sim --scenario rejoin`); this debug test uses
/// 20,000.
@Suite("Rejoin catch-up with range summaries")
struct RejoinTests {
    static func options(holds: Bool, summaries: Bool) -> ScenarioOptions {
        var o = ScenarioOptions(.rejoin, seed: 1)
        o.store = 20_000
        o.rejoinHolds = holds
        o.rangeSummaries = summaries
        return o
    }

    @Test(
        "with range summaries the catch-up converges and costs a fraction of the paged inventories",
        arguments: [false, true])
    func followsTheDifference(holds: Bool) throws {
        let on = Self.options(holds: holds, summaries: true)
        let (_, withSummaries) = try runExpectingSuccess(on)
        let (_, paged) = try runExpectingSuccess(Self.options(holds: holds, summaries: false))
        let bytesOn = withSummaries.metrics.protocolBytesAfterSettle
        let bytesOff = paged.metrics.protocolBytesAfterSettle
        print(
            "rejoin holds=\(holds) store=20000: summaries \(bytesOn) B in \(withSummaries.metrics.convergenceMillis ?? -1) ms; pages \(bytesOff) B in \(paged.metrics.convergenceMillis ?? -1) ms"
        )
        #expect(withSummaries.metrics.converged && paged.metrics.converged, on.note())
        // One pass of pages over 20,000 prefixes alone is 148 datagrams, about 175 KB; the summaries' whole
        // catch-up of 100 envelopes stays under 150 KB (measured 76-95 KB), pages cost over 1 MB.
        #expect(bytesOn <= 150_000, on.note("protocol bytes \(bytesOn)"))
        #expect(bytesOn * 3 <= bytesOff, on.note("summaries \(bytesOn) B, pages \(bytesOff) B"))
    }
}
