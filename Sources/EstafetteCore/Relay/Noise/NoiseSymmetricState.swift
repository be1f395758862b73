/// A Noise SymmetricState (specification rev 34, §5.2): the chaining key `ck`, the handshake hash `h` and a
/// CipherState. It lives only for the duration of a handshake; `split()` turns it into the two transport
/// CipherStates. No PSK: `MixKeyAndHash` is not needed by the patterns Estafette supports.
struct NoiseSymmetricState: Sendable {
    private(set) var cipher = NoiseCipherState()
    /// ck: HASHLEN bytes, secret, in guarded memory.
    private var chainingKey: SecretBytes
    /// h: HASHLEN bytes. Not secret, but it binds everything both sides have said.
    private(set) var handshakeHash: [UInt8]

    /// InitializeSymmetric(protocol_name): h = the name zero-padded to HASHLEN if it fits, else HASH(name);
    /// ck = h; no cipher key.
    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= NoiseCrypto.hashLength {
            handshakeHash = name + [UInt8](repeating: 0, count: NoiseCrypto.hashLength - name.count)
        } else {
            handshakeHash = NoiseCrypto.hash(name)
        }
        chainingKey = SecretBytes(copying: handshakeHash)
    }

    /// MixKey(input_key_material): ck, temp_k = HKDF(ck, ikm, 2); the cipher gets temp_k truncated to 32 bytes.
    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        var outputs = hkdf(inputKeyMaterial)
        chainingKey = SecretBytes(copying: outputs[0])
        cipher = NoiseCipherState(truncating: outputs[1])
        for i in outputs.indices { NoiseCrypto.wipe(&outputs[i]) }
    }

    /// MixHash(data): h = HASH(h || data).
    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = NoiseCrypto.hash(handshakeHash + data)
    }

    /// EncryptAndHash(plaintext): encrypts with h as associated data (or passes through without a key),
    /// then mixes the ciphertext into h.
    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(ad: handshakeHash, plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext): the reverse of `encryptAndHash`; h is unchanged when the tag fails.
    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(ad: handshakeHash, ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split(): temp_k1, temp_k2 = HKDF(ck, empty, 2), each truncated to 32 bytes. The first is the
    /// initiator-to-responder direction, the second the responder-to-initiator one.
    func split() -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        var outputs = hkdf([])
        let pair = (NoiseCipherState(truncating: outputs[0]), NoiseCipherState(truncating: outputs[1]))
        for i in outputs.indices { NoiseCrypto.wipe(&outputs[i]) }
        return pair
    }

    /// HKDF(ck, ikm, 2), wiping the ordinary-memory copy of ck it needs.
    private func hkdf(_ inputKeyMaterial: [UInt8]) -> [[UInt8]] {
        var ck = chainingKey.exposedCopy()
        defer { NoiseCrypto.wipe(&ck) }
        return NoiseCrypto.hkdf(chainingKey: ck, inputKeyMaterial: inputKeyMaterial, outputs: 2)
    }
}
