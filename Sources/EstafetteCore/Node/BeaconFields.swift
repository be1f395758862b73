/// The store summary a beacon carries, made so that two sessions of one node never multicast an equal field
/// (issue 9, property 9): a node restarted with the same store must not be linkable to its previous session by
/// its beacons. See docs/protocol.md ("LAN datagrams", type 1).
///
/// - The digest is keyed by the sender's session: `BLAKE2b-256("estafette/beacon/v1" ‖ session u64 ‖ digest)`. A
///   receiver, which knows the session from the datagram, computes the same over its own digest to compare.
/// - The count is rounded down to its two most significant bits (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, …): "holds
///   more" still means more, but the exact size of a store is not on the air.
extension MeshNode {
    static let beaconDomain = Array("estafette/beacon/v1".utf8)

    static func beaconDigest(_ digest: EnvelopeID, session: UInt64) -> EnvelopeID {
        // Words in and out, no byte-by-byte conversion: every beacon heard costs one of these.
        var input: [UInt8] = []
        input.reserveCapacity(beaconDomain.count + 8 + 32)
        input += beaconDomain
        for w in [session, digest.w0, digest.w1, digest.w2, digest.w3] { input.appendBE(w) }
        return Sodium.blake2b(input, length: 32).withUnsafeBytes { p in
            func word(_ i: Int) -> UInt64 { UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
            return EnvelopeID(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
        }
    }

    static func beaconCount(_ count: Int) -> UInt32 {
        let n = UInt32(clamping: count)
        guard n > 3 else { return n }
        let shift = 31 - n.leadingZeroBitCount - 1
        return (n >> shift) << shift
    }

    /// The beacon this node multicasts now.
    var ownBeacon: Packet {
        .beacon(count: Self.beaconCount(envelopeCount), digest: Self.beaconDigest(digest, session: session))
    }

    /// A beacon from `sender` as `onBeacon` judges it: our own count and digest when its keyed digest equals ours
    /// keyed the same way (the stores agree), else what it carried (which cannot equal our digest).
    func beaconAsHeard(count: UInt32, digest theirs: EnvelopeID, from sender: UInt64) -> (UInt32, EnvelopeID) {
        theirs == Self.beaconDigest(digest, session: sender)
            ? (UInt32(clamping: envelopeCount), digest) : (count, theirs)
    }
}
