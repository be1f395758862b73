import Testing

@testable import EstafetteCore

@Suite("AnswerCredit")
struct AnswerCreditTests {
    @Test("credit is spent oldest first and lapses its lifetime after it was earned: none is saved for later")
    func lapses() {
        var credit = AnswerCredit(cap: 40_960, lifetime: 5_000)
        credit.deposit(600, to: "a", now: 0)
        credit.deposit(600, to: "a", now: 3_000)
        #expect(credit.available(to: "a", now: 4_999) == 1_200)
        #expect(credit.available(to: "a", now: 5_000) == 600, "the first grant lapsed")
        do { let paid = credit.spend(700, from: "a", now: 5_000); #expect(!paid, "a lapsed grant pays for nothing") }
        do { let paid = credit.spend(500, from: "a", now: 5_000); #expect(paid) }
        #expect(credit.available(to: "a", now: 7_999) == 100)
        #expect(credit.available(to: "a", now: 8_000) == 0)
        credit.prune(now: 8_000)
        #expect(credit.trackedSources == 0)
    }

    @Test("a source that earned credit for minutes can spend only what its last few seconds of requests earned")
    func noSavingUp() {
        var credit = AnswerCredit(cap: 40_960, lifetime: 5_000)
        // A beacon of 88 bytes a second for ten minutes, at 6 answer bytes per request byte.
        for s in 0..<600 { credit.deposit(88 * 6, to: "a", now: Millis(s) * 1_000) }
        let window = credit.available(to: "a", now: 600_000)
        #expect(window <= 5 * 88 * 6, "at most the last five seconds' grants, not ten minutes' worth")
    }

    @Test("a source holds at most the cap; another source has its own credit; a refused spend takes nothing")
    func capAndSources() {
        var credit = AnswerCredit(cap: 1_000, lifetime: 5_000)
        credit.deposit(800, to: "a", now: 0)
        credit.deposit(800, to: "a", now: 1_000)
        #expect(credit.available(to: "a", now: 1_000) == 1_000)
        #expect(credit.available(to: "b", now: 1_000) == 0)
        do { let paid = credit.spend(1_001, from: "a", now: 1_000); #expect(!paid) }
        #expect(credit.available(to: "a", now: 1_000) == 1_000)
    }

    @Test("many deposits keep few grants; a sprayer of sources shares one overflow budget")
    func bounded() {
        var credit = AnswerCredit(cap: 1e9, lifetime: 5_000, maxSources: 4)
        for t in 0..<10_000 { credit.deposit(1, to: "a", now: Millis(t)) }
        #expect(credit.available(to: "a", now: 9_999) == 5_000, "deposits merged, still lapsing on time")
        for i in 0..<100 { credit.deposit(10, to: "s\(i)", now: 9_999) }
        #expect(credit.trackedSources == 4)
        #expect(credit.available(to: "s99", now: 9_999) == 970, "97 sprayed sources share one overflow budget")
    }
}
