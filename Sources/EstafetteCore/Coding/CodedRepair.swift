/// Coded repair: random linear network coding over GF(2⁸).
///
/// A node asked to repair a set of envelopes, for receivers that each lack at most `need` of them, multicasts
/// `need` coded packets instead of every envelope. Each coded packet is a random linear combination of the
/// envelopes (zero-padded to the longest); a receiver subtracts the members it holds and solves for the ones it
/// lacks once it has as many independent combinations as unknowns. On a lossy LAN each receiver misses a
/// different few envelopes, so one coded packet repairs a different envelope at every receiver.
/// See docs/protocol.md ("Coded repair") and docs/decisions.md.
///
/// `CodedRepair` builds the packets of one repair burst; `CodedDecoder` solves them.
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
