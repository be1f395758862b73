import EstafetteCore

/// A min-heap of events ordered by (virtual time, sequence number). Two events due at the same millisecond run in
/// the order they were scheduled, so ties never depend on heap layout and a run replays event for event.
public struct EventQueue<Event> {
    struct Entry {
        let time: Millis
        let sequence: UInt64
        let event: Event
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    /// The time of the next event, if any.
    public var nextTime: Millis? { heap.first?.time }

    public mutating func push(_ event: Event, at time: Millis) {
        heap.append(Entry(time: time, sequence: nextSequence, event: event))
        nextSequence += 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest event (the first scheduled among equal times).
    public mutating func pop() -> (time: Millis, event: Event)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return (top.time, top.event)
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        let item = heap[i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.precedes(item, heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = item
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let item = heap[i]
        let n = heap.count
        while true {
            let left = 2 * i + 1
            guard left < n else { break }
            var child = left
            if left + 1 < n, Self.precedes(heap[left + 1], heap[left]) { child = left + 1 }
            guard Self.precedes(heap[child], item) else { break }
            heap[i] = heap[child]
            i = child
        }
        heap[i] = item
    }
}

extension EventQueue: Sendable where Event: Sendable {}
extension EventQueue.Entry: Sendable where Event: Sendable {}
