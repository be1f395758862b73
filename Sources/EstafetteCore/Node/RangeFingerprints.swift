/// The IDs a node holds, sorted by prefix, with what a range summary asks of them: find the IDs whose prefix lies
/// in [lo, hi], and fingerprint any run of them quickly.
///
/// The fingerprint is Negentropy's (`NegentropyAccumulator`): SHA-256 of the sum mod 2²⁵⁶ of the full 32-byte IDs
/// and their count, cut to 16 bytes. IDs are BLAKE2b hashes of envelopes, so making a different set sum to the
/// same value means choosing envelopes by their hashes: not cheap. A sum is kept every `blockSize` IDs, so a
/// fingerprint costs at most 2 × 31 additions and one hash, whatever the range.
struct RangeFingerprints: Sendable {
    static let blockSize = 32

    /// Every held ID, by ascending prefix.
    let ids: [EnvelopeID]
    /// `blockSums[k]` is the sum of `ids[0 ..< k * blockSize]`.
    private let blockSums: [NegentropyAccumulator]

    init(sortedPrefixes: [UInt64], index: EnvelopeIndex) {
        ids = sortedPrefixes.compactMap { index.id(prefix: $0) }
        var sums: [NegentropyAccumulator] = [.zero]
        sums.reserveCapacity(ids.count / Self.blockSize + 1)
        var acc = NegentropyAccumulator.zero
        var start = 0
        while start + Self.blockSize <= ids.count {
            for i in start..<(start + Self.blockSize) { acc.add(ids[i]) }
            sums.append(acc)
            start += Self.blockSize
        }
        blockSums = sums
    }

    /// The positions of the IDs whose prefix lies in [lo, hi].
    func positions(lo: UInt64, hi: UInt64) -> Range<Int> {
        let start = firstIndex(atLeast: lo)
        let end = hi == .max ? ids.count : firstIndex(atLeast: hi + 1)
        return start..<max(start, end)
    }

    private func firstIndex(atLeast p: UInt64) -> Int {
        var lo = 0
        var hi = ids.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if ids[mid].w0 < p { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private func prefixSum(_ end: Int) -> NegentropyAccumulator {
        let block = end / Self.blockSize
        var acc = blockSums[block]
        for i in (block * Self.blockSize)..<end { acc.add(ids[i]) }
        return acc
    }

    func fingerprint(_ range: Range<Int>) -> NegentropyFingerprint {
        var acc: NegentropyAccumulator
        if range.count < Self.blockSize {
            acc = .zero
            for i in range { acc.add(ids[i]) }
        } else {
            acc = prefixSum(range.upperBound)
            acc.subtract(prefixSum(range.lowerBound))
        }
        return acc.fingerprint(count: range.count)
    }

    /// [lo, hi] split into at most `ways` consecutive sub-ranges holding equal numbers of our IDs (one when we
    /// hold none), each with its count and fingerprint. Each upper bound is the prefix of the last ID in it, the
    /// last one `hi`.
    func summary(lo: UInt64, hi: UInt64, ways: Int) -> [SummaryRange] {
        let pos = positions(lo: lo, hi: hi)
        let k = max(1, min(ways, pos.count))
        var out: [SummaryRange] = []
        out.reserveCapacity(k)
        var start = pos.lowerBound
        for j in 0..<k {
            let end = j == k - 1 ? pos.upperBound : pos.lowerBound + (pos.count * (j + 1)) / k
            let upper = j == k - 1 ? hi : ids[end - 1].w0
            out.append(
                SummaryRange(upperBound: upper, count: UInt32(end - start), fingerprint: fingerprint(start..<end)))
            start = end
        }
        return out
    }
}
