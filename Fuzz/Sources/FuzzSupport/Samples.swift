import EstafetteCore

/// Valid protocol objects for seeds and ground truth: the same on every run.
public enum Samples {
    /// 2024-01-01T00:00:00Z, in milliseconds.
    public static let now: Millis = 1_704_067_200_000
    public static var nowSeconds: UInt64 { UInt64(now / 1000) }

    public static let alice = SigningKeyPair.deterministic(1)
    public static let bob = SigningKeyPair.deterministic(2)

    /// A signed alert by Alice.
    public static func alert(_ text: String, sequence: UInt64 = 1) -> Envelope {
        try! Alert.sign(
            text: text, by: alice, sequence: sequence, createdAt: nowSeconds, expiresAt: nowSeconds + 3600)
    }

    /// A direct message from Alice to `to`.
    public static func direct(_ text: String, to: SigningPublicKey) -> Envelope {
        try! DirectMessage.seal(
            text: text, from: alice, to: to.self, createdAt: nowSeconds, expiresAt: nowSeconds + 3600)
    }

    /// A channel envelope (carried, not read) with a body of `n` seeded bytes: long ones are fragmented.
    public static func channel(bodyBytes n: Int, seed: UInt64) -> Envelope {
        Envelope(kind: .channel, expiresAt: nowSeconds + 3600, tag: [1, 2, 3], body: seededBytes(n, seed: seed))
    }

    /// One packet of each type, from real envelopes.
    public static func packets() -> [(name: String, packet: Packet)] {
        let short = alert("hello mesh").encoded()
        let long = channel(bodyBytes: 3000, seed: 7).encoded()
        let longID = EnvelopeID(ofEncoded: long)
        let pieces = Fragmenter.packets(for: long, id: longID)
        let ids = [short, long, channel(bodyBytes: 10, seed: 1).encoded()].map { EnvelopeID(ofEncoded: $0) }
        let prefixes = ids.map(\.prefix).sorted()
        let members = [short, channel(bodyBytes: 40, seed: 2).encoded()]
        let memberIDs = members.map { EnvelopeID(ofEncoded: $0).prefix }
        let order = memberIDs[0] < memberIDs[1] ? [0, 1] : [1, 0]
        let payload = GFOracle.combine(order.enumerated().map { (coefficient: UInt8(3 + $0.offset), bytes: members[$0.element]) })
        return [
            ("beacon", .beacon(count: 3, digest: ids[0])),
            ("envelope", .envelope(short)),
            ("fragment", pieces[0]),
            ("fragment-last", pieces[pieces.count - 2]),
            ("parity-0", pieces[pieces.count - 1]),
            ("parity-7", Fragmenter.parities(for: long, id: longID, indices: [7])[0]),
            ("inventory", .inventory(lo: prefixes[0], hi: prefixes[2], count: 3, digest: ids[1], prefixes: prefixes)),
            ("want", .want(target: 0x0102_0304_0506_0708, need: 2, prefixes: Array(prefixes.prefix(2)))),
            ("coded", .coded(members: order.map { memberIDs[$0] }, coefficients: [3, 4], payload: payload)),
        ]
    }
}
