import CSodium

/// The functions of the suite `25519_ChaChaPoly_BLAKE2b` (Noise specification rev 34, §4 and §12), built on
/// libsodium: DH = X25519, ENCRYPT = ChaCha20-Poly1305 (IETF), HASH = BLAKE2b-512, with HMAC and HKDF as §4.3
/// defines them. libsodium has no HMAC-BLAKE2b (its keyed BLAKE2b is a different MAC), so HMAC is written here
/// on BLAKE2b's 128-byte block, as RFC 2104 describes.
enum NoiseCrypto {
    /// DHLEN: bytes of an X25519 public key and of a DH output.
    static let dhLength = 32
    /// HASHLEN: bytes of a BLAKE2b-512 output, and of the chaining key and handshake hash.
    static let hashLength = 64
    /// BLOCKLEN: BLAKE2b's block, which HMAC pads its key to.
    static let blockLength = 128
    /// Bytes of a cipher key. HKDF outputs (64 bytes) are truncated to this.
    static let keyLength = 32
    /// Bytes of a Poly1305 tag: what encryption adds to a plaintext.
    static let tagLength = 16
    /// The largest Noise message (§3).
    static let maxMessageLength = 65535

    // MARK: DH

    /// X25519 of `secret` and `publicKey`. libsodium refuses an all-zero output (a small-order public key);
    /// that is a typed error here, so a hostile key cannot make both sides agree on a known secret.
    static func dh(_ secret: SecretBytes, _ publicKey: [UInt8]) throws(NoiseError) -> [UInt8] {
        Sodium.ensureReady()
        guard publicKey.count == dhLength else { throw .invalidKeyLength(publicKey.count) }
        precondition(secret.count == dhLength, "Noise secret key of \(secret.count) bytes")
        var out = [UInt8](repeating: 0, count: dhLength)
        let rc = secret.withUnsafeBytes { s in
            crypto_scalarmult(&out, s.baseAddress!.assumingMemoryBound(to: UInt8.self), publicKey)
        }
        guard rc == 0 else {
            wipe(&out)
            throw .invalidPublicKey
        }
        return out
    }

    // MARK: Cipher

    /// The 96-bit ChaChaPoly nonce: 32 bits of zeros, then `n` as a 64-bit little-endian integer (§12.3).
    static func nonceBytes(_ n: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + withUnsafeBytes(of: n.littleEndian) { Array($0) }
    }

    /// ENCRYPT(k, n, ad, plaintext): the ciphertext followed by the 16-byte tag.
    static func encrypt(key: SecretBytes, nonce n: UInt64, ad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        precondition(key.count == keyLength, "Noise cipher key of \(key.count) bytes")
        let nonce = nonceBytes(n)
        var out = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        var outLength: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_chacha20poly1305_ietf_encrypt(
                &out, &outLength, plaintext, UInt64(plaintext.count), ad, UInt64(ad.count), nil, nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        precondition(rc == 0 && outLength == UInt64(out.count), "chacha20poly1305 encryption failed (rc \(rc))")
        return out
    }

    /// DECRYPT(k, n, ad, ciphertext): the plaintext, or ``NoiseError/decryptionFailed`` if the tag does not verify.
    static func decrypt(key: SecretBytes, nonce n: UInt64, ad: [UInt8], ciphertext: [UInt8]) throws(NoiseError)
        -> [UInt8]
    {
        Sodium.ensureReady()
        precondition(key.count == keyLength, "Noise cipher key of \(key.count) bytes")
        guard ciphertext.count >= tagLength else { throw .messageTooShort("ciphertext", ciphertext.count) }
        let nonce = nonceBytes(n)
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagLength)
        var outLength: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_chacha20poly1305_ietf_decrypt(
                &out, &outLength, nil, ciphertext, UInt64(ciphertext.count), ad, UInt64(ad.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0, outLength == UInt64(out.count) else { throw .decryptionFailed }
        return out
    }

    // MARK: Hash, HMAC, HKDF

    /// HASH(data): BLAKE2b with a 64-byte output, unkeyed.
    static func hash(_ data: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: hashLength)
        let rc = crypto_generichash(&out, hashLength, data, UInt64(data.count), nil, 0)
        precondition(rc == 0, "crypto_generichash failed with a 64-byte output")
        return out
    }

    /// HMAC-HASH(key, data) as RFC 2104 with HASH = BLAKE2b-512 and B = 128 (§4.3).
    static func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var block = key.count > blockLength ? hash(key) : key
        block += [UInt8](repeating: 0, count: blockLength - block.count)
        var inner = block.map { $0 ^ 0x36 } + data
        var outer = block.map { $0 ^ 0x5c }
        var innerHash = hash(inner)
        outer += innerHash
        let result = hash(outer)
        wipe(&block)
        wipe(&inner)
        wipe(&outer)
        wipe(&innerHash)
        return result
    }

    /// HKDF(chaining_key, input_key_material, num_outputs) (§4.3): two or three 64-byte outputs.
    static func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        precondition(outputs == 2 || outputs == 3, "HKDF with \(outputs) outputs")
        var tempKey = hmac(key: chainingKey, data: inputKeyMaterial)
        var result: [[UInt8]] = []
        var previous: [UInt8] = []
        for i in 1...outputs {
            var input = previous + [UInt8(i)]
            previous = hmac(key: tempKey, data: input)
            wipe(&input)
            result.append(previous)
        }
        wipe(&tempKey)
        return result
    }

    /// Overwrites `bytes` with zeros (`sodium_memzero`, which the compiler may not elide).
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { p in
            if let base = p.baseAddress { sodium_memzero(base, p.count) }
        }
    }
}
