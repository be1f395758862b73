/// LAN datagrams. Everything but the magic, version and nonce is sealed with the mesh key, so an outsider on the
/// same Wi-Fi sees only sizes.
///
/// ```
/// datagram  = "ES" | ver u8 (=1) | nonce[24] | XChaCha20-Poly1305(mesh_key, nonce, ad = "ES"|ver, plaintext)
/// plaintext = type u8 | session u64 BE | payload
///
/// type 1 beacon     count u32 | digest[32]                       (digest = XOR of all unexpired envelope IDs)
/// type 2 envelope   one encoded envelope (fits one datagram)
/// type 3 fragment   stream u64 | offset u32 | total u32 | chunk   (stream = first 8 bytes of the envelope ID)
/// type 4 inventory  range_lo u64 | range_hi u64 | count u32 | digest[32] | n u16 | n × id-prefix u64
///                   (sorted; every prefix the sender holds in [lo, hi]; count and digest of its whole store)
/// type 5 want       target session u64 | need u16 | n u16 | n × id-prefix u64
///                   (the node asked to repair them; need = how many the asking node lacks, listed or not)
/// type 6 coded      n u8 | n × id-prefix u64 (strictly ascending) | n × coefficient u8 (non-zero) | payload
///                   (payload = Σ coefficient·member over GF(2⁸), members zero-padded; see CodedRepair)
/// type 7 parity     stream u64 | total u32 | index u8 | chunk   (Σ α^i·chunk_i over GF(2⁸) for the envelope's
///                   fragment chunks i, zero-padded, with α = 2^index: index 0 is their XOR, sent after the
///                   fragments; repairs send other indices. A receiver missing m fragments rebuilds them from
///                   any m parities; see `Fragmenter`)
/// type 9 summary    range_lo u64 | range_hi u64 | count u32 | digest[32] | n u8 |
///                   n × (upper u64 | count u32 | fingerprint[16])
///                   ([lo, hi] split into n consecutive sub-ranges, the first from lo, each up to its upper bound,
///                   the last ending at hi; count and fingerprint of the IDs the sender holds in each; count and
///                   digest of its whole store. Sent only with `MeshNode.Settings.rangeSummaries`. Type 8 stays
///                   unassigned: tests and tools use it as their example of an unknown type)
/// ```
/// `MeshKey` seals and opens datagrams; `Packet+Codec.swift` holds each type's payload reader and writer.
public enum Packet: Hashable, Sendable {
    case beacon(count: UInt32, digest: EnvelopeID)
    case envelope([UInt8])
    case fragment(stream: UInt64, offset: UInt32, total: UInt32, chunk: [UInt8])
    case inventory(lo: UInt64, hi: UInt64, count: UInt32, digest: EnvelopeID, prefixes: [UInt64])
    case want(target: UInt64, need: UInt16, prefixes: [UInt64])
    case coded(members: [UInt64], coefficients: [UInt8], payload: [UInt8])
    case parity(stream: UInt64, total: UInt32, index: UInt8, chunk: [UInt8])
    case summary(lo: UInt64, hi: UInt64, count: UInt32, digest: EnvelopeID, ranges: [SummaryRange])

    public static let magic: [UInt8] = [0x45, 0x53]  // "ES"
    public static let version: UInt8 = 1
    /// Largest datagram we send: a safe payload on any path (IPv6 minimum MTU less headers).
    public static let maxDatagramBytes = 1200
    static let sealedOverhead = 2 + 1 + AEADKey.nonceBytes + AEADKey.tagBytes
    static let plainHeaderBytes = 1 + 8
    /// Room for a payload inside one datagram.
    public static let maxPayloadBytes = maxDatagramBytes - sealedOverhead - plainHeaderBytes
    static let fragmentHeaderBytes = 8 + 4 + 4
    public static let maxChunkBytes = maxPayloadBytes - fragmentHeaderBytes
    /// Most prefixes in one inventory or want packet.
    public static let maxPrefixesPerPacket = (maxPayloadBytes - (8 + 8 + 4 + 32 + 2)) / 8
    /// Most sub-ranges in one summary packet (39 fit; fewer keep it well inside a datagram).
    public static let maxSummaryRanges = 32
    /// The shortest payload a coded packet may carry: an envelope header.
    static let minCodedPayloadBytes = Envelope.headerBytes

    var type: UInt8 {
        switch self {
        case .beacon: return 1
        case .envelope: return 2
        case .fragment: return 3
        case .inventory: return 4
        case .want: return 5
        case .coded: return 6
        case .parity: return 7
        case .summary: return 9
        }
    }
}

/// One sub-range of a summary: the IDs the sender holds from the previous range's upper bound (exclusive; the
/// summary's `lo` inclusive for the first) up to `upperBound` (inclusive), their number and their fingerprint
/// (`RangeFingerprints`: SHA-256 of the sum of the full 32-byte IDs and the count, as Negentropy's).
public struct SummaryRange: Hashable, Sendable {
    public var upperBound: UInt64
    public var count: UInt32
    public var fingerprint: NegentropyFingerprint

    public init(upperBound: UInt64, count: UInt32, fingerprint: NegentropyFingerprint) {
        self.upperBound = upperBound
        self.count = count
        self.fingerprint = fingerprint
    }

    public static let wireBytes = 8 + 4 + NegentropyFingerprint.byteCount
}
