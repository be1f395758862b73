import EstafetteCore
import Testing

@testable import EstafetteSim

@Suite struct EventQueueTests {
    @Test func popsInTimeOrderAndBreaksTiesByScheduleOrder() {
        var queue = EventQueue<String>()
        queue.push("c", at: 30)
        queue.push("a1", at: 10)
        queue.push("b", at: 20)
        queue.push("a2", at: 10)
        queue.push("a3", at: 10)
        var out: [String] = []
        while let (_, event) = queue.pop() { out.append(event) }
        #expect(out == ["a1", "a2", "a3", "b", "c"])
    }

    @Test func manyEventsComeOutSorted() {
        var queue = EventQueue<Int>()
        var rng = SplitMix64(seed: 7)
        for i in 0..<5_000 { queue.push(i, at: Int64(rng.next() % 100)) }
        var last: (Int64, Int) = (-1, -1)
        var popped = 0
        while let (time, i) = queue.pop() {
            #expect(time > last.0 || (time == last.0 && i > last.1))
            last = (time, i)
            popped += 1
        }
        #expect(popped == 5_000)
    }
}
