import CSodium

/// The data key's two uses at rest (docs/security.md, "What a seized device reveals"): sealing a column's value
/// (XChaCha20-Poly1305 under a subkey, random nonce, the column's label as associated data, so a sealed value
/// cannot be moved to another column unnoticed) and the keyed index of a value that lookups compare for equality
/// (keyed BLAKE2b-256 under another subkey: without the data key nobody can test whether a given ID is there).
///
/// Both subkeys are derived from the 32-byte data key with keyed BLAKE2b and a context string, in
/// `sodium_malloc` memory; the data key itself is not kept.
public struct AtRestKey: Sendable {
    public static let keyBytes = 32
    let sealKey: AEADKey
    let indexKey: SecretBytes

    /// Derives the subkeys from a 32-byte data key.
    public init(dataKey: SecretBytes) throws(CryptoError) {
        guard dataKey.count == Self.keyBytes else { throw .invalidKeyLength }
        sealKey = try AEADKey(key: Self.derive(dataKey, context: "estafette-at-rest-seal-v1"))
        indexKey = Self.derive(dataKey, context: "estafette-at-rest-index-v1")
    }

    /// A fresh random data key, in guarded memory.
    public static func randomDataKey() -> SecretBytes {
        Sodium.ensureReady()
        let k = SecretBytes(count: keyBytes)
        k.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return k
    }

    static func derive(_ key: SecretBytes, context: String) -> SecretBytes {
        let out = SecretBytes(count: 32)
        let ctx = Array(context.utf8)
        let rc = out.withUnsafeMutableBytes { o in
            key.withUnsafeBytes { k in
                crypto_generichash(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), 32, ctx, UInt64(ctx.count),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
            }
        }
        precondition(rc == 0, "crypto_generichash failed with valid lengths")
        return out
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext`, bound to `label` (the table and column).
    public func seal(_ plaintext: [UInt8], label: String) -> [UInt8] {
        let nonce = Sodium.randomBytes(AEADKey.nonceBytes)
        return nonce + sealKey.seal(plaintext, nonce: nonce, ad: Array(label.utf8))
    }

    /// Opens what `seal` made under the same label; throws when it was altered, moved or sealed by another key.
    public func open(_ sealed: [UInt8], label: String) throws(CryptoError) -> [UInt8] {
        guard sealed.count >= AEADKey.nonceBytes + AEADKey.tagBytes else { throw .decryptionFailed }
        let nonce = Array(sealed[0..<AEADKey.nonceBytes])
        return try sealKey.open(sealed[AEADKey.nonceBytes...], nonce: nonce, ad: Array(label.utf8))
    }

    /// The 32-byte keyed index of `value` under `label`: equal values under one label give equal indexes.
    public func index(_ value: [UInt8], label: String) -> [UInt8] {
        var input = Array(label.utf8)
        input.append(0)
        input += value
        var out = [UInt8](repeating: 0, count: 32)
        let rc = indexKey.withUnsafeBytes { k in
            crypto_generichash(
                &out, 32, input, UInt64(input.count), k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
        }
        precondition(rc == 0, "crypto_generichash failed with valid lengths")
        return out
    }
}
