import EstafetteCore
import FuzzSupport

/// The genuine envelopes the fuzzer's peers can send: made once, with real keys, so that a run can deliver,
/// fragment, combine and replay them. Nothing else the fuzzer builds can carry a valid signature or box.
struct PoolEnvelope {
    let id: EnvelopeID
    let bytes: [UInt8]
    let expiresAt: UInt64
    /// The text a message for Bob (the fuzzed node) carries, if it is one.
    let text: String?
    /// Fragments and parity 0, for an envelope too long for one datagram.
    let pieces: [Packet]
}

enum Pool {
    static let node = Samples.bob
    static let carol = SigningKeyPair.deterministic(3)

    static let envelopes: [PoolEnvelope] = {
        let made: [(Envelope, String?)] = [
            (Samples.alert("alert one", sequence: 1), "alert one"),
            (Samples.alert("alert two", sequence: 2), "alert two"),
            (Samples.direct("for Bob", to: node.publicKey), "for Bob"),
            (Samples.direct("for Carol", to: carol.publicKey), nil),
            (Samples.channel(bodyBytes: 40, seed: 11), nil),
            (Samples.channel(bodyBytes: 700, seed: 12), nil),
            (Samples.channel(bodyBytes: 3_000, seed: 13), nil),
            (Samples.channel(bodyBytes: 12_000, seed: 14), nil),
        ]
        return made.map { envelope, text in
            let bytes = envelope.encoded()
            let id = EnvelopeID(ofEncoded: bytes)
            let pieces = bytes.count > Packet.maxPayloadBytes ? Fragmenter.packets(for: bytes, id: id) : []
            return PoolEnvelope(id: id, bytes: bytes, expiresAt: envelope.expiresAt, text: text, pieces: pieces)
        }
    }()

    static let byID: [EnvelopeID: PoolEnvelope] = Dictionary(uniqueKeysWithValues: envelopes.map { ($0.id, $0) })
    /// Envelopes short enough to be members of a coded packet, by ascending prefix.
    static let codable = envelopes.filter { $0.bytes.count <= CodedRepair.maxMemberBytes }
        .sorted { $0.id.prefix < $1.id.prefix }
    static let long = envelopes.filter { !$0.pieces.isEmpty }

    /// Parities by (long envelope, index), made once.
    nonisolated(unsafe) static var parities: [EnvelopeID: [UInt8: Packet]] = [:]

    static func parity(of e: PoolEnvelope, index: UInt8) -> Packet {
        if let p = parities[e.id]?[index] { return p }
        let p = Fragmenter.parities(for: e.bytes, id: e.id, indices: [index])[0]
        parities[e.id, default: [:]][index] = p
        return p
    }
}
