import Testing

@testable import EstafetteCore

@Suite("SourceBudgets")
struct SourceBudgetsTests {
    @Test("a source spends its burst, is refused beyond it, and earns it back at its rate")
    func refills() {
        var budgets = SourceBudgets(rate: .init(burst: 10, perSecond: 5))
        for _ in 0..<10 { do { let granted = budgets.spend(1, from: "a", now: 0); #expect(granted) } }
        do { let granted = budgets.spend(1, from: "a", now: 0); #expect(!granted) }
        do { let granted = budgets.spend(1, from: "b", now: 0); #expect(granted, "another source has its own budget") }
        do { let granted = budgets.spend(1, from: "a", now: 199); #expect(!granted) }
        do { let granted = budgets.spend(1, from: "a", now: 200); #expect(granted) }
        #expect(budgets.available(to: "a", now: 10_000) == 10, "never more than the burst")
    }

    @Test("a refused spend takes nothing")
    func refusedSpendIsFree() {
        var budgets = SourceBudgets(rate: .init(burst: 10, perSecond: 0))
        do { let granted = budgets.spend(11, from: "a", now: 0); #expect(!granted) }
        do { let granted = budgets.spend(10, from: "a", now: 0); #expect(granted) }
    }

    @Test("an earned budget starts empty and holds what was deposited, up to its burst")
    func earned() {
        var budgets = SourceBudgets(rate: .init(burst: 100, perSecond: 0), startFull: false)
        do { let granted = budgets.spend(1, from: "a", now: 0); #expect(!granted) }
        budgets.deposit(30, to: "a", now: 0)
        do { let granted = budgets.spend(30, from: "a", now: 1); #expect(granted) }
        do { let granted = budgets.spend(1, from: "a", now: 2); #expect(!granted) }
        budgets.deposit(1_000, to: "a", now: 3)
        #expect(budgets.available(to: "a", now: 3) == 100)
    }

    @Test("fresh addresses beyond the table share one overflow budget and cost no memory")
    func boundedTable() {
        var budgets = SourceBudgets(rate: .init(burst: 5, perSecond: 0), maxSources: 4)
        for source in 0..<4 { let granted = budgets.spend(1, from: "s\(source)", now: 0); #expect(granted) }
        var granted = 0
        for source in 4..<10_000 where budgets.spend(1, from: "s\(source)", now: 0) { granted += 1 }
        #expect(budgets.trackedSources == 4)
        #expect(granted == 5, "every newcomer draws on the same overflow bucket")
    }

    @Test("an idle source's bucket is forgotten and its slot reused")
    func pruning() {
        var budgets = SourceBudgets(rate: .init(burst: 5, perSecond: 5), maxSources: 2)
        do { let granted = budgets.spend(5, from: "a", now: 0); #expect(granted) }
        do { let granted = budgets.spend(5, from: "b", now: 0); #expect(granted) }
        do { let granted = budgets.spend(5, from: "c", now: 0); #expect(granted, "the overflow bucket") }
        do { let granted = budgets.spend(5, from: "d", now: 0); #expect(!granted) }
        do {
            let granted = budgets.spend(5, from: "d", now: 1_000);
            #expect(granted, "a and b refilled, so d gets a slot of its own")
        }
        #expect(budgets.trackedSources == 1)
    }

    @Test("the budget key is the host and interface, not the port")
    func sourceKey() {
        let one = PeerAddress(host: "10.0.0.7", port: 4000, interface: 1)
        let other = PeerAddress(host: "10.0.0.7", port: 5123, interface: 1)
        #expect(one.source == other.source)
        #expect(one.source != PeerAddress(host: "10.0.0.7", port: 4000, interface: 2).source)
    }
}
