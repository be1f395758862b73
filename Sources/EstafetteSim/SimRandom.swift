import EstafetteCore

/// The draws the simulator makes, written out here so that a seed replays the same run whatever algorithms the
/// standard library's `random(in:using:)` uses in a later toolchain.
extension SplitMix64 {
    /// An independent stream for one purpose (`label`), so that changing one part of a scenario (the loss rate,
    /// say) does not shift the draws of another (the workload).
    static func stream(_ seed: UInt64, _ label: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (label &* 0xD6E8_FEB8_6659_FD93))
        return SplitMix64(seed: mixer.next())
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// True with probability `p`; draws nothing when `p` is zero.
    mutating func chance(_ p: Double) -> Bool { p > 0 && unit() < p }

    /// Uniform in `0..<n` (multiply-high; the bias of at most n/2^64 does not matter here).
    mutating func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0, "below(0)")
        return n.multipliedFullWidth(by: next()).high
    }

    /// Uniform in a closed range of integers.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(below(UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// Uniform in a closed range of milliseconds.
    mutating func millis(in range: ClosedRange<Millis>) -> Millis {
        range.lowerBound + Millis(below(UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            var w = next()
            for _ in 0..<8 {
                out.append(UInt8(truncatingIfNeeded: w))
                w >>= 8
            }
        }
        out.removeLast(out.count - count)
        return out
    }
}
