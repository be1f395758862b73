/// Coded repair: random linear network coding over GF(2⁸).
///
/// A node asked to repair a set of envelopes, for receivers that each lack at most `need` of them, multicasts
/// `need` coded packets instead of every envelope. Each coded packet is a random linear combination of the
/// envelopes (zero-padded to the longest); a receiver subtracts the members it holds and solves for the ones it
/// lacks once it has as many independent combinations as unknowns. On a lossy LAN each receiver misses a
/// different few envelopes, so one coded packet repairs a different envelope at every receiver.
/// See docs/protocol.md ("Coded repair") and docs/decisions.md.

/// Arithmetic in GF(2⁸) with the polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D), the field of Reed–Solomon codes.
/// Addition is XOR; multiplication goes through a 64 KiB product table built once.
enum GF256 {
    /// `products[a << 8 | b] = a · b`.
    static let products: [UInt8] = {
        var exp = [UInt8](repeating: 0, count: 512)
        var log = [Int](repeating: 0, count: 256)
        var x = 1
        for i in 0..<255 {
            exp[i] = UInt8(x)
            log[x] = i
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
        }
        for i in 255..<512 { exp[i] = exp[i - 255] }
        var table = [UInt8](repeating: 0, count: 65_536)
        for a in 1..<256 {
            for b in 1..<256 { table[a << 8 | b] = exp[log[a] + log[b]] }
        }
        return table
    }()

    /// `inverses[a] · a = 1` for a ≠ 0.
    static let inverses: [UInt8] = {
        var inv = [UInt8](repeating: 0, count: 256)
        for a in 1..<256 {
            for b in 1..<256 where products[a << 8 | b] == 1 {
                inv[a] = UInt8(b)
                break
            }
        }
        return inv
    }()

    @inline(__always)
    static func mul(_ a: UInt8, _ b: UInt8) -> UInt8 { products[Int(a) << 8 | Int(b)] }

    /// aⁿ.
    static func power(_ a: UInt8, _ n: Int) -> UInt8 {
        var result: UInt8 = 1
        for _ in 0..<n { result = mul(result, a) }
        return result
    }

    static func inverse(_ a: UInt8) -> UInt8 {
        precondition(a != 0, "zero has no inverse in GF(256)")
        return inverses[Int(a)]
    }

    /// `target += c · source`, element by element; `target` grows with zeros to `source.count` if shorter.
    static func addScaled(_ source: [UInt8], times c: UInt8, into target: inout [UInt8]) {
        guard c != 0 else { return }
        if target.count < source.count { target += [UInt8](repeating: 0, count: source.count - target.count) }
        let row = Int(c) << 8
        products.withUnsafeBufferPointer { table in
            source.withUnsafeBufferPointer { src in
                target.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count { dst[i] ^= table[row | Int(src[i])] }
                }
            }
        }
    }

    /// `target = c · target`.
    static func scale(_ target: inout [UInt8], by c: UInt8) {
        let row = Int(c) << 8
        products.withUnsafeBufferPointer { table in
            target.withUnsafeMutableBufferPointer { dst in
                for i in 0..<dst.count { dst[i] = table[row | Int(dst[i])] }
            }
        }
    }
}

/// Builds the packets of one repair burst.
public enum CodedRepair {
    /// Most envelopes combined in one coded packet.
    public static let maxMembers = 32
    /// Bytes of a coded packet before the combined payload, for `n` members: n, the prefixes, the coefficients.
    static func headerBytes(members n: Int) -> Int { 1 + 9 * n }
    /// The longest envelope that can be a member (of a generation of one).
    public static let maxMemberBytes = Packet.maxPayloadBytes - headerBytes(members: 1)

    /// The packets that repair `envelopes` for receivers that each lack at most `need` of them: envelopes too
    /// long to combine go out whole (fragmented as usual); the rest are split into generations that fit one
    /// datagram, and a generation of `n` goes out as `min(need, n)` coded packets, or whole when that is `n`.
    ///
    /// A long envelope in `parityOnly` (it went out recently, so the nodes lacking it hold most of its fragments
    /// and wait for the rest) goes out as a few new parities instead of whole: `parityRepairCount` of them,
    /// with random indices, so that a receiver missing that many fragments rebuilds them.
    static func packets(
        for envelopes: [(id: EnvelopeID, bytes: [UInt8])], need: Int, parityOnly: Set<EnvelopeID> = [],
        rng: inout SplitMix64
    ) -> [Packet] {
        var out: [Packet] = []
        var codable: [(id: EnvelopeID, bytes: [UInt8])] = []
        for e in envelopes {
            if e.bytes.count <= maxMemberBytes {
                codable.append(e)
            } else if parityOnly.contains(e.id) {
                let fragments = (e.bytes.count + Packet.maxChunkBytes - 1) / Packet.maxChunkBytes
                var indices: [UInt8] = []
                while indices.count < parityRepairCount(fragments: fragments) {
                    // 1…254: index 255 would repeat parity 0 (2²⁵⁵ = 1).
                    let j = UInt8(1 + rng.next() % 254)
                    if !indices.contains(j) { indices.append(j) }
                }
                out += Fragmenter.parities(for: e.bytes, id: e.id, indices: indices)
            } else {
                out += Fragmenter.packets(for: e.bytes, id: e.id)
            }
        }
        // Shortest first, so that a generation's padding (to its longest member) stays small.
        codable.sort { ($0.bytes.count, $0.id) < ($1.bytes.count, $1.id) }
        var start = 0
        while start < codable.count {
            var end = start + 1
            while end < codable.count, end - start < maxMembers,
                headerBytes(members: end - start + 1) + codable[end].bytes.count <= Packet.maxPayloadBytes
            {
                end += 1
            }
            out += generation(Array(codable[start..<end]), need: need, rng: &rng)
            start = end
        }
        return out
    }

    /// Parities a repair sends for a recently sent envelope of `fragments` fragments: enough for a receiver
    /// that lost three of its pieces (two beyond what parity 0 rebuilt), and one more per eight fragments.
    static func parityRepairCount(fragments: Int) -> Int { min(fragments, 2 + fragments / 8) }

    /// One generation: whole envelopes when `need` covers all of them, otherwise `need` random combinations.
    static func generation(
        _ members: [(id: EnvelopeID, bytes: [UInt8])], need: Int, rng: inout SplitMix64
    ) -> [Packet] {
        guard need < members.count else { return members.map { .envelope($0.bytes) } }
        let sorted = members.sorted { $0.id.prefix < $1.id.prefix }
        let prefixes = sorted.map(\.id.prefix)
        var packets: [Packet] = []
        for _ in 0..<max(0, need) {
            var coefficients: [UInt8] = []
            var payload: [UInt8] = []
            for m in sorted {
                let c = UInt8(1 + rng.next() % 255)
                coefficients.append(c)
                GF256.addScaled(m.bytes, times: c, into: &payload)
            }
            packets.append(.coded(members: prefixes, coefficients: coefficients, payload: payload))
        }
        return packets
    }
}

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
