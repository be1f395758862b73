/// Evidence about this node's own clock, from the times on envelopes it hears: a node whose clock is far off
/// refuses nearly every envelope as expired (its clock is ahead) or as expiring too far ahead (behind), and
/// should say so instead of refusing in silence (issue 9, property 13).
///
/// It keeps the last `window` envelopes from the LAN that reached the time checks, with their source. The clock is
/// suspect when at least `minSamples` of them, from at least two sources, are there and at least three quarters
/// were refused on time; the skew is the median of what each refusal implies (a lower bound: an envelope that
/// expired 2 days ago says this clock is at least 2 days ahead). It changes only what the node reports.
public struct ClockMonitor: Sendable, Equatable {
    public static let window = 32
    public static let minSamples = 8

    struct Sample: Sendable, Equatable {
        /// Seconds this clock seems ahead (positive) or behind (negative); nil for an envelope whose time was fine.
        var skew: Int64?
        var source: String
    }

    private var samples: [Sample] = []
    private var next = 0

    /// What the node reports: `suspect`, and the skew it estimates (seconds, positive when this clock is ahead).
    public struct Status: Sendable, Equatable {
        public var suspect: Bool
        public var skewSeconds: Int64?
    }

    mutating func record(skew: Int64?, source: String) {
        let s = Sample(skew: skew, source: source)
        if samples.count < Self.window {
            samples.append(s)
        } else {
            samples[next] = s
            next = (next + 1) % Self.window
        }
    }

    public var status: Status {
        let refused = samples.compactMap(\.skew).sorted()
        let sources = Set(samples.map(\.source)).count
        let suspect = samples.count >= Self.minSamples && sources >= 2 && refused.count * 4 >= samples.count * 3
        return Status(suspect: suspect, skewSeconds: suspect ? refused[refused.count / 2] : nil)
    }
}
