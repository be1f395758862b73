import CSodium

/// An X25519 key pair for Noise: a static key (the relay's, or a node's link key) or an ephemeral one.
/// The secret lives in guarded memory and is wiped when the last copy is dropped.
public struct NoiseKeyPair: Sendable {
    /// The 32-byte public key, as it travels in handshake messages.
    public let publicKey: [UInt8]
    /// The 32-byte secret scalar (unclamped; X25519 clamps it).
    let secretKey: SecretBytes

    /// The key pair of a 32-byte secret.
    public init(secretKey: SecretBytes) throws(NoiseError) {
        Sodium.ensureReady()
        guard secretKey.count == NoiseCrypto.dhLength else { throw .invalidKeyLength(secretKey.count) }
        var pk = [UInt8](repeating: 0, count: NoiseCrypto.dhLength)
        let rc = secretKey.withUnsafeBytes { s in
            crypto_scalarmult_base(&pk, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        // libsodium refuses only a scalar that clamps to an all-zero result, which no clamped scalar does.
        guard rc == 0 else { throw .invalidPublicKey }
        self.publicKey = pk
        self.secretKey = secretKey
    }

    /// A fresh key pair from the system CSPRNG (GENERATE_KEYPAIR).
    public static func generate() -> NoiseKeyPair {
        Sodium.ensureReady()
        let secret = SecretBytes(count: NoiseCrypto.dhLength)
        secret.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        do {
            return try NoiseKeyPair(secretKey: secret)
        } catch {
            preconditionFailure("crypto_scalarmult_base refused a random 32-byte scalar: \(error)")
        }
    }

    /// The X25519 form of an Ed25519 identity (`crypto_sign_ed25519_sk_to_curve25519`): a relay's static key,
    /// so that its `es1…` ID is the key an initiator pins. Shares the identity's guarded secret.
    public init(identity: SigningKeyPair) {
        do {
            try self.init(secretKey: identity.boxSecret)
        } catch {
            preconditionFailure("an identity's X25519 secret has no public key: \(error)")
        }
        precondition(publicKey == identity.boxPublicKey.bytes, "identity's X25519 public key does not match")
    }
}

extension NoiseKeyPair: CustomStringConvertible {
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        let hex = publicKey.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }
        return "NoiseKeyPair(public: \(String(decoding: hex, as: UTF8.self)), secret: redacted)"
    }
}
