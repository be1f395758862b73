/// A Noise CipherState (specification rev 34, §5.1): a ChaChaPoly key `k` and a 64-bit nonce `n`.
///
/// During the handshake it may have no key yet, and then passes bytes through unchanged, as the
/// specification requires. After `Split()` each direction of a link has one. The key is held in guarded
/// memory and wiped when the last copy of the state is dropped.
public struct NoiseCipherState: Sendable {
    /// The nonce 2^64 - 1 is reserved for rekeying: a state that reaches it refuses to encrypt or decrypt.
    static let reservedNonce = UInt64.max

    private var key: SecretBytes?
    /// The nonce the next encryption or decryption will use.
    public private(set) var nonce: UInt64 = 0

    /// A state with no key (InitializeKey(empty)).
    init() {}

    /// A state with the 32-byte key `key` and nonce 0 (InitializeKey(key)).
    init(key: SecretBytes) {
        precondition(key.count == NoiseCrypto.keyLength, "Noise cipher key of \(key.count) bytes")
        self.key = key
    }

    /// A state keyed with the first 32 bytes of `material` (HKDF outputs are 64 bytes with BLAKE2b).
    init(truncating material: [UInt8]) {
        precondition(material.count >= NoiseCrypto.keyLength, "key material of \(material.count) bytes")
        let key = SecretBytes(count: NoiseCrypto.keyLength)
        key.withUnsafeMutableBytes { $0.copyBytes(from: material.prefix(NoiseCrypto.keyLength)) }
        self.init(key: key)
    }

    /// HasKey().
    public var hasKey: Bool { key != nil }

    /// SetNonce(nonce): for tests of nonce exhaustion; Noise itself never moves a nonce by hand.
    mutating func setNonce(_ n: UInt64) { nonce = n }

    /// EncryptWithAd(ad, plaintext): ciphertext and tag, or the plaintext itself while there is no key.
    /// Increments the nonce. Throws ``NoiseError/nonceExhausted`` instead of reusing a nonce.
    public mutating func encrypt(ad: [UInt8] = [], _ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        guard plaintext.count <= NoiseCrypto.maxMessageLength - NoiseCrypto.tagLength else {
            throw .messageTooLong(plaintext.count + NoiseCrypto.tagLength)
        }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        let out = NoiseCrypto.encrypt(key: key, nonce: nonce, ad: ad, plaintext: plaintext)
        nonce += 1
        return out
    }

    /// DecryptWithAd(ad, ciphertext): the plaintext, or the ciphertext itself while there is no key.
    /// Increments the nonce only on success, so a forged message does not desynchronise the link.
    public mutating func decrypt(ad: [UInt8] = [], _ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return ciphertext }
        guard ciphertext.count <= NoiseCrypto.maxMessageLength else { throw .messageTooLong(ciphertext.count) }
        guard nonce != Self.reservedNonce else { throw .nonceExhausted }
        let out = try NoiseCrypto.decrypt(key: key, nonce: nonce, ad: ad, ciphertext: ciphertext)
        nonce += 1
        return out
    }

    /// Rekey(): k = the first 32 bytes of ENCRYPT(k, 2^64 - 1, empty, 32 zero bytes) (§4.2, §11.3).
    /// The nonce is unchanged. Both sides must rekey at the same point of the stream; Estafette does not
    /// use it yet (a link re-handshakes instead), but it is here so a later version can.
    public mutating func rekey() {
        guard let key else { return }
        var material = NoiseCrypto.encrypt(
            key: key, nonce: Self.reservedNonce, ad: [], plaintext: [UInt8](repeating: 0, count: NoiseCrypto.keyLength))
        let next = NoiseCipherState(truncating: material)
        NoiseCrypto.wipe(&material)
        self.key = next.key
    }
}
