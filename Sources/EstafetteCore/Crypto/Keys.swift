import CSodium

public struct CryptoError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case invalidPublicKey, invalidKeyLength, decryptionFailed, badSignature, keyConversionFailed
        case memoryProtectionFailed
    }

    private let base: Base

    public static let invalidPublicKey = CryptoError(base: .invalidPublicKey)
    public static let invalidKeyLength = CryptoError(base: .invalidKeyLength)
    public static let decryptionFailed = CryptoError(base: .decryptionFailed)
    public static let badSignature = CryptoError(base: .badSignature)
    public static let keyConversionFailed = CryptoError(base: .keyConversionFailed)
    public static let memoryProtectionFailed = CryptoError(base: .memoryProtectionFailed)

    public var description: String {
        switch base {
        case .invalidPublicKey: return "invalid public key (all zero, small order or not on the curve)"
        case .invalidKeyLength: return "key has the wrong length"
        case .decryptionFailed: return "decryption failed (wrong key or tampered data)"
        case .badSignature: return "signature does not verify"
        case .keyConversionFailed: return "Ed25519 to X25519 key conversion failed"
        case .memoryProtectionFailed: return "cannot change the protection of guarded memory"
        }
    }
}

/// An Ed25519 public key that has been checked: 32 bytes, a valid point, not of small order.
public struct SigningPublicKey: Hashable, Sendable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(validating bytes: [UInt8]) throws(CryptoError) {
        Sodium.ensureReady()
        guard bytes.count == Self.byteCount else { throw .invalidKeyLength }
        // Rejects the all-zero key, small-order points and non-canonical encodings.
        guard crypto_core_ed25519_is_valid_point(bytes) == 1 else { throw .invalidPublicKey }
        self.bytes = bytes
    }

    /// The X25519 key used for boxes addressed to this identity.
    public func boxPublicKey() throws(CryptoError) -> BoxPublicKey {
        var out = [UInt8](repeating: 0, count: 32)
        guard crypto_sign_ed25519_pk_to_curve25519(&out, bytes) == 0 else { throw .keyConversionFailed }
        return BoxPublicKey(unchecked: out)
    }

    /// Verifies a detached Ed25519 signature over `message`.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == crypto_sign_bytes() else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), bytes) == 0
    }
}

/// An X25519 public key.
public struct BoxPublicKey: Hashable, Sendable {
    public let bytes: [UInt8]
    init(unchecked bytes: [UInt8]) { self.bytes = bytes }
}

/// An Ed25519 key pair and its derived X25519 key pair. Secrets live in guarded memory.
public struct SigningKeyPair: Sendable {
    public let publicKey: SigningPublicKey
    public let boxPublicKey: BoxPublicKey
    /// The 32-byte seed the pair is derived from: the only secret that needs storing.
    let seed: SecretBytes
    let signingSecret: SecretBytes  // 64 bytes
    let boxSecret: SecretBytes  // 32 bytes

    /// A fresh key pair from the system CSPRNG.
    public static func generate() -> SigningKeyPair {
        let seed = SecretBytes(count: Int(crypto_sign_seedbytes()))
        seed.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        // A freshly generated key always converts; a failure here is a libsodium fault.
        return try! SigningKeyPair(seed: seed)
    }

    /// The key pair derived from a 32-byte seed (deterministic: tests and the simulator derive keys this way).
    public init(seed: SecretBytes) throws(CryptoError) {
        Sodium.ensureReady()
        guard seed.count == Int(crypto_sign_seedbytes()) else { throw .invalidKeyLength }
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_publickeybytes()))
        let sk = SecretBytes(count: Int(crypto_sign_secretkeybytes()))
        let rc = sk.withUnsafeMutableBytes { skp in
            seed.withUnsafeBytes { sp in
                crypto_sign_seed_keypair(
                    &pk, skp.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    sp.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw .keyConversionFailed }
        let xsk = SecretBytes(count: 32)
        let rc2 = xsk.withUnsafeMutableBytes { xp in
            sk.withUnsafeBytes { skp in
                crypto_sign_ed25519_sk_to_curve25519(
                    xp.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    skp.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc2 == 0 else { throw .keyConversionFailed }
        self.publicKey = try SigningPublicKey(validating: pk)
        self.boxPublicKey = try publicKey.boxPublicKey()
        self.seed = seed
        self.signingSecret = sk
        self.boxSecret = xsk
    }

    /// Deterministic key pair from a 64-bit seed: for tests and simulation only.
    public static func deterministic(_ n: UInt64) -> SigningKeyPair {
        var material = Array("estafette-test-key".utf8)
        withUnsafeBytes(of: n.bigEndian) { material.append(contentsOf: $0) }
        let seed = SecretBytes(copying: Sodium.blake2b(material, length: 32))
        return try! SigningKeyPair(seed: seed)
    }

    /// The seed, for writing the key file.
    public func exportSeed() -> [UInt8] { seed.exposedCopy() }

    /// The seed in its guarded region, for writing the key file without a copy in ordinary memory.
    public var guardedSeed: SecretBytes { seed }

    /// Detached Ed25519 signature.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: crypto_sign_bytes())
        let rc = signingSecret.withUnsafeBytes { sk in
            crypto_sign_detached(
                &sig, nil, message, UInt64(message.count), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        precondition(rc == 0, "crypto_sign_detached failed")
        return sig
    }

    /// `crypto_box_easy` from this identity to `recipient`. Fails on a degenerate shared secret.
    public func box(_ plaintext: [UInt8], nonce: [UInt8], to recipient: BoxPublicKey) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + crypto_box_macbytes())
        let rc = boxSecret.withUnsafeBytes { sk in
            crypto_box_easy(
                &out, plaintext, UInt64(plaintext.count), nonce, recipient.bytes,
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw .invalidPublicKey }
        return out
    }

    /// `crypto_box_beforenm`: writes the 32-byte key shared with `peer` to `out` (guarded memory, owned by the
    /// caller). Returns libsodium's result: non-zero for a degenerate shared secret (a small-order peer key).
    func precomputeSharedKey(with peer: BoxPublicKey, into out: UnsafeMutableRawPointer) -> Int32 {
        guard peer.bytes.count == crypto_box_publickeybytes() else { return -1 }
        return boxSecret.withUnsafeBytes { sk in
            crypto_box_beforenm(
                out.assumingMemoryBound(to: UInt8.self), peer.bytes, sk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
    }

    /// Opens a `crypto_box_easy` box from `sender` to this identity.
    public func openBox(_ ciphertext: [UInt8], nonce: [UInt8], from sender: BoxPublicKey) throws(CryptoError)
        -> [UInt8]
    {
        guard ciphertext.count >= crypto_box_macbytes() else { throw .decryptionFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - crypto_box_macbytes())
        let rc = boxSecret.withUnsafeBytes { sk in
            crypto_box_open_easy(
                &out, ciphertext, UInt64(ciphertext.count), nonce, sender.bytes,
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw .decryptionFailed }
        return out
    }

    /// Opens an anonymous sealed box addressed to this identity.
    public func openSealed(_ ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard ciphertext.count >= crypto_box_sealbytes() else { throw .decryptionFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - crypto_box_sealbytes())
        let rc = boxSecret.withUnsafeBytes { sk in
            crypto_box_seal_open(
                &out, ciphertext, UInt64(ciphertext.count), boxPublicKey.bytes,
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw .decryptionFailed }
        return out
    }
}

public enum SealedBox {
    public static var overhead: Int { crypto_box_sealbytes() }

    /// Anonymous sealed box to `recipient` (ephemeral sender key; nobody but the recipient can open it).
    public static func seal(_ plaintext: [UInt8], to recipient: BoxPublicKey) throws(CryptoError) -> [UInt8] {
        Sodium.ensureReady()
        var out = [UInt8](repeating: 0, count: plaintext.count + crypto_box_sealbytes())
        guard crypto_box_seal(&out, plaintext, UInt64(plaintext.count), recipient.bytes) == 0 else {
            throw .invalidPublicKey
        }
        return out
    }
}

/// XChaCha20-Poly1305 (IETF) with a 32-byte key.
public struct AEADKey: Sendable {
    public static let nonceBytes = 24
    public static let tagBytes = 16
    let key: SecretBytes

    public init(key: SecretBytes) throws(CryptoError) {
        guard key.count == Int(crypto_aead_xchacha20poly1305_ietf_keybytes()) else { throw .invalidKeyLength }
        self.key = key
    }

    public func seal(_ plaintext: [UInt8], nonce: [UInt8], ad: [UInt8]) -> [UInt8] {
        precondition(nonce.count == Self.nonceBytes, "XChaCha20 nonce must be 24 bytes")
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.tagBytes)
        var outLen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                &out, &outLen, plaintext, UInt64(plaintext.count), ad, UInt64(ad.count), nil, nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        precondition(rc == 0 && Int(outLen) == out.count, "XChaCha20-Poly1305 encryption failed")
        return out
    }

    public func open(_ ciphertext: some Collection<UInt8>, nonce: [UInt8], ad: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard nonce.count == Self.nonceBytes, ciphertext.count >= Self.tagBytes else { throw .decryptionFailed }
        let c = Array(ciphertext)
        var out = [UInt8](repeating: 0, count: c.count - Self.tagBytes)
        var outLen: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &out, &outLen, nil, c, UInt64(c.count), ad, UInt64(ad.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw .decryptionFailed }
        return out
    }
}

public enum PasswordHash {
    /// Argon2id key derivation. `opsLimit`/`memLimit` default to libsodium's INTERACTIVE level.
    public static func deriveKey(
        passphrase: String, salt: [UInt8], length: Int = 32,
        opsLimit: Int = crypto_pwhash_opslimit_interactive(), memLimit: Int = crypto_pwhash_memlimit_interactive()
    ) -> SecretBytes? {
        Sodium.ensureReady()
        guard salt.count == crypto_pwhash_saltbytes() else { return nil }
        let out = SecretBytes(count: length)
        let pw = Array(passphrase.utf8)
        let rc = out.withUnsafeMutableBytes { o in
            pw.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { pc in
                    crypto_pwhash(
                        o.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(length), pc.baseAddress!,
                        UInt64(pw.count), salt, UInt64(opsLimit), memLimit, crypto_pwhash_alg_argon2id13())
                }
            }
        }
        return rc == 0 ? out : nil
    }

    public static var saltBytes: Int { crypto_pwhash_saltbytes() }
}
