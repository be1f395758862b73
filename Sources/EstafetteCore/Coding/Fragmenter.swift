/// Splits an envelope too long for one datagram into fragments of `Packet.maxChunkBytes`, and makes parities
/// over them: parity j is Σ α_j^i · chunk_i over GF(2⁸), chunks zero-padded, with α_j = 2^j. Parity 0 (all
/// coefficients 1, the XOR) follows the fragments when an envelope is first sent, so any one lost fragment is
/// rebuilt; a repair sends a few parities with other indices, and a receiver that holds all but m fragments
/// rebuilds them from any m parities (a rare choice of indices that leaves the equations dependent waits for
/// one more parity; index 255 is the same as index 0, since 2²⁵⁵ = 1, and repairs never send it).
public enum Fragmenter {
    /// The packets that carry an encoded envelope: one when it fits, otherwise its fragments and parity 0.
    public static func packets(for encoded: [UInt8], id: EnvelopeID) -> [Packet] {
        if encoded.count <= Packet.maxPayloadBytes {
            return [.envelope(encoded)]
        }
        var out: [Packet] = []
        var offset = 0
        while offset < encoded.count {
            let end = min(offset + Packet.maxChunkBytes, encoded.count)
            out.append(
                .fragment(
                    stream: id.prefix, offset: UInt32(offset), total: UInt32(encoded.count),
                    chunk: Array(encoded[offset..<end])))
            offset = end
        }
        return out + parities(for: encoded, id: id, indices: [0])
    }

    /// Parities of a fragmented envelope, one per index.
    public static func parities(for encoded: [UInt8], id: EnvelopeID, indices: [UInt8]) -> [Packet] {
        indices.map { index in
            var parity = [UInt8](repeating: 0, count: Packet.maxChunkBytes)
            for (i, offset) in stride(from: 0, to: encoded.count, by: Packet.maxChunkBytes).enumerated() {
                let chunk = Array(encoded[offset..<min(offset + Packet.maxChunkBytes, encoded.count)])
                GF256.addScaled(chunk, times: coefficient(parity: index, fragment: i), into: &parity)
            }
            return .parity(stream: id.prefix, total: UInt32(encoded.count), index: index, chunk: parity)
        }
    }

    /// α_j^i with α_j = 2^j: the weight of fragment i in parity j.
    static func coefficient(parity j: UInt8, fragment i: Int) -> UInt8 {
        GF256.power(2, (Int(j) * i) % 255)
    }
}
