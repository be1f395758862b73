/// A sealed, sorted set of records, with what a Negentropy session asks of it: find where a bound falls and
/// fingerprint any range of positions quickly.
///
/// Records are kept in one array sorted by `(timestamp, id)`, 40 bytes each. A sum of IDs is kept every
/// `blockSize` records (a 32-byte prefix sum per block, so 1 byte per record), and the sum of any range is the
/// difference of two prefix sums, each the nearest block sum plus at most `blockSize − 1` IDs. A fingerprint thus
/// costs at most 2 × 31 additions and one SHA-256, whatever the size of the range.
///
/// A storage is a value: build one from a snapshot of the store for each session (or share one between sessions;
/// the arrays are copy-on-write and never copied by a session).
public struct NegentropyStorage: Sendable {
    /// Records sum into a stored prefix every this many records.
    static let blockSize = 32

    /// Every record, sorted by `(timestamp, id)`, without duplicates.
    public let records: [NegentropyRecord]
    /// `blockSums[k]` is the sum of the IDs of `records[0 ..< k * blockSize]`.
    private let blockSums: [NegentropyAccumulator]

    /// Sorts `records` and seals them. Throws on a duplicate record or on the reserved timestamp 2^64 − 1.
    public init(_ records: some Sequence<NegentropyRecord>) throws(NegentropyError) {
        var sorted = Array(records)
        sorted.sort()
        try self.init(sorted: sorted)
    }

    /// Seals records that are already sorted by `(timestamp, id)`; checks the order instead of sorting.
    public init(sorted records: [NegentropyRecord]) throws(NegentropyError) {
        for i in records.indices.dropFirst() {
            if records[i - 1] == records[i] { throw .duplicateRecord(records[i]) }
            if records[i] < records[i - 1] { throw .unsortedRecords(at: i) }
        }
        if let last = records.last, last.timestamp == .max { throw .reservedTimestamp }
        self.records = records
        var sums: [NegentropyAccumulator] = []
        sums.reserveCapacity(records.count / Self.blockSize + 1)
        var acc = NegentropyAccumulator.zero
        sums.append(acc)
        var start = 0
        while start + Self.blockSize <= records.count {
            for i in start..<(start + Self.blockSize) { acc.add(records[i].id) }
            sums.append(acc)
            start += Self.blockSize
        }
        self.blockSums = sums
    }

    public var count: Int { records.count }

    /// The first position in `range` whose record is at or above `bound` (`range.upperBound` if none).
    func lowerBound(of bound: NegentropyBound, in range: Range<Int>) -> Int {
        var lo = range.lowerBound
        var hi = range.upperBound
        let key = bound.record
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if records[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The sum of the IDs of `records[0 ..< end]`.
    private func prefixSum(_ end: Int) -> NegentropyAccumulator {
        let block = end / Self.blockSize
        var acc = blockSums[block]
        for i in (block * Self.blockSize)..<end { acc.add(records[i].id) }
        return acc
    }

    /// The sum of the IDs in `range`, from whichever side is cheaper.
    func sum(_ range: Range<Int>) -> NegentropyAccumulator {
        if range.count < Self.blockSize {
            var acc = NegentropyAccumulator.zero
            for i in range { acc.add(records[i].id) }
            return acc
        }
        var acc = prefixSum(range.upperBound)
        acc.subtract(prefixSum(range.lowerBound))
        return acc
    }

    /// The protocol fingerprint of the records in `range`.
    public func fingerprint(_ range: Range<Int>) -> NegentropyFingerprint {
        precondition(range.lowerBound >= 0 && range.upperBound <= records.count, "range \(range) of \(records.count)")
        return sum(range).fingerprint(count: range.count)
    }
}
