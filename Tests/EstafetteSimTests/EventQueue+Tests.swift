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
        var rng = SplitMixForTests(seed: 7)
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

struct SplitMixForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
