@testable import EstafetteCore

/// Shared fixtures for the core tests. Keys are deterministic; randomness comes from a seeded SplitMix64.
enum Fixture {
    /// A wall-clock instant, in milliseconds, well after the epoch: 2024-01-01T00:00:00Z.
    static let now: Millis = 1_704_067_200_000
    static var nowSeconds: UInt64 { UInt64(now / 1000) }
    /// A typical expiry: one hour after `now`.
    static var expiry: UInt64 { nowSeconds + 3600 }

    static let alice = SigningKeyPair.deterministic(1)
    static let bob = SigningKeyPair.deterministic(2)
    static let carol = SigningKeyPair.deterministic(3)
    static let dave = SigningKeyPair.deterministic(4)
    static let mallory = SigningKeyPair.deterministic(666)

    /// A private mesh key, cheap to derive (Argon2id at its minimum cost).
    static let otherMeshKey = MeshKey.fromPassphrase("x", meshName: "test", opsLimit: 1, memLimit: 8 * 1024 * 1024)!

    /// Seeded random bytes.
    static func bytes(_ count: Int, using rng: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }
}

/// `bytes` with one bit inverted (bit 0 is the low bit of byte 0).
func flippingBit(_ bit: Int, of bytes: [UInt8]) -> [UInt8] {
    var out = bytes
    out[bit / 8] ^= 1 << UInt8(bit % 8)
    return out
}

/// Bytes from a hex literal; traps on malformed test data.
func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    precondition(digits.count % 2 == 0, "odd hex literal in a test: \(hex)")
    return stride(from: 0, to: digits.count, by: 2).map { i in
        UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16)!
    }
}

/// Big-endian bytes of an integer, for hand-built wire data.
func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.bigEndian) { Array($0) }
}

extension MeshKey {
    /// Seals an arbitrary plaintext (`type | session | payload`) exactly as `seal(_:session:)` would, so tests can
    /// build datagrams that `Packet` itself could never encode.
    func sealRaw(_ plaintext: [UInt8]) -> [UInt8] {
        let nonce = Sodium.randomBytes(AEADKey.nonceBytes)
        return Self.ad + nonce + aead.seal(plaintext, nonce: nonce, ad: Self.ad)
    }
}

extension MeshNode {
    /// `receive` with an empty store: for datagrams that read none (anything but a coded packet over envelopes
    /// the node holds).
    mutating func receive(_ datagram: [UInt8], from address: PeerAddress, now: Millis) -> [Action] {
        receive(datagram, from: address, now: now, store: [EnvelopeID: StoredEnvelope]())
    }

    /// `timerFired` with an empty store: for timers that read none (anything but a repair burst).
    mutating func timerFired(_ timer: Timer, now: Millis) -> [Action] {
        timerFired(timer, now: now, store: [EnvelopeID: StoredEnvelope]())
    }
}
