/// Online Gaussian elimination over the coded packets a node received, with unknowns keyed by envelope-ID
/// prefix. Rows are kept fully reduced: each has a pivot (its smallest unknown, with coefficient 1) that no
/// other row mentions, so a row with a single unknown is solved.
///
/// Bounds: at most `maxRows` rows (a row beyond that is refused and counted, never evicting work in
/// progress); each row mentions at most `CodedRepair.maxMembers` unknowns and carries at most one datagram of
/// payload; rows time out after `timeoutMillis` (several repair rounds, so that rows from one burst combine
/// with the next).
struct CodedDecoder: Sendable {
    struct Row: Sendable {
        var coefficients: [UInt64: UInt8]
        var payload: [UInt8]
        let receivedAt: Millis
    }

    enum Outcome: Equatable {
        /// The combination told us nothing new.
        case redundant
        /// The decoder is full: the combination was refused.
        case full
        /// Stored; these unknowns are now solved (zero-padded bytes).
        case added(solved: [Solved])
    }

    struct Solved: Equatable {
        let prefix: UInt64
        let bytes: [UInt8]
    }

    var maxRows = 64
    var timeoutMillis: Millis = 30_000
    private(set) var rows: [UInt64: Row] = [:]

    var isEmpty: Bool { rows.isEmpty }

    /// Rows that mention only these unknowns: each is one combination fewer to ask for.
    func rows(within unknowns: Set<UInt64>) -> Int {
        rows.values.reduce(0) { $0 + ($1.coefficients.keys.allSatisfy(unknowns.contains) ? 1 : 0) }
    }

    /// Adds a combination over unknowns only (the caller has subtracted the members it holds).
    mutating func add(_ coefficients: [UInt64: UInt8], payload: [UInt8], now: Millis) -> Outcome {
        var row = Row(coefficients: coefficients.filter { $0.value != 0 }, payload: payload, receivedAt: now)
        // Eliminate the existing pivots. Rows are reduced, so subtracting one brings in no other pivot.
        for pivot in row.coefficients.keys where rows[pivot] != nil {
            guard let c = row.coefficients[pivot] else { continue }
            Self.subtract(rows[pivot]!, times: c, from: &row)
        }
        guard let pivot = row.coefficients.keys.min() else { return .redundant }
        guard rows.count < maxRows else { return .full }
        Self.normalise(&row, pivot: pivot)
        for (p, other) in rows {
            guard let c = other.coefficients[pivot] else { continue }
            var reduced = other
            Self.subtract(row, times: c, from: &reduced)
            rows[p] = reduced
        }
        rows[pivot] = row
        return .added(solved: takeSolved())
    }

    /// An unknown became known (it arrived whole, or was solved): it is substituted everywhere. Returns what
    /// that solves.
    mutating func learn(_ prefix: UInt64, bytes: [UInt8], now: Millis) -> [Solved] {
        var solved: [Solved] = []
        if var own = rows.removeValue(forKey: prefix) {
            // Its own row still says something about the other unknowns in it.
            own.coefficients[prefix] = nil
            GF256.addScaled(bytes, times: 1, into: &own.payload)
            if !own.coefficients.isEmpty,
                case .added(let s) = add(own.coefficients, payload: own.payload, now: own.receivedAt)
            {
                solved += s
            }
        }
        for (p, row) in rows {
            guard let c = row.coefficients[prefix] else { continue }
            var reduced = row
            reduced.coefficients[prefix] = nil
            GF256.addScaled(bytes, times: c, into: &reduced.payload)
            rows[p] = reduced
        }
        return solved + takeSolved()
    }

    /// Forgets rows older than the timeout; returns how many.
    mutating func expire(now: Millis) -> Int {
        let old = rows.filter { now - $0.value.receivedAt >= timeoutMillis }.map(\.key)
        for p in old { rows[p] = nil }
        return old.count
    }

    /// Forgets everything (after a solved unknown turned out not to be the envelope it should be).
    mutating func reset() { rows = [:] }

    private mutating func takeSolved() -> [Solved] {
        let done = rows.filter { $0.value.coefficients.count == 1 }.map(\.key).sorted()
        return done.map { Solved(prefix: $0, bytes: rows.removeValue(forKey: $0)!.payload) }
    }

    private static func subtract(_ source: Row, times c: UInt8, from row: inout Row) {
        for (p, d) in source.coefficients {
            let v = (row.coefficients[p] ?? 0) ^ GF256.mul(c, d)
            row.coefficients[p] = v == 0 ? nil : v
        }
        GF256.addScaled(source.payload, times: c, into: &row.payload)
    }

    private static func normalise(_ row: inout Row, pivot: UInt64) {
        let inv = GF256.inverse(row.coefficients[pivot]!)
        guard inv != 1 else { return }
        for (p, c) in row.coefficients { row.coefficients[p] = GF256.mul(inv, c) }
        GF256.scale(&row.payload, by: inv)
    }
}
