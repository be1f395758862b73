import CSodium

/// Safe wrappers over libsodium. Every call's result is checked; failures are typed errors.
public enum Sodium {
    /// Zeroes an array in place (`sodium_memzero`: not optimised away), for secrets that had to pass through one.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { sodium_memzero(base, $0.count) } }
    }

    /// Initialises libsodium. Idempotent and thread-safe; called by every wrapper that needs it.
    public static let ready: Bool = {
        sodium_init() >= 0
    }()

    @inline(__always)
    static func ensureReady() {
        precondition(ready, "libsodium failed to initialise (sodium_init() < 0)")
    }

    /// `n` bytes from the system CSPRNG.
    public static func randomBytes(_ n: Int) -> [UInt8] {
        ensureReady()
        var out = [UInt8](repeating: 0, count: n)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, n) }
        return out
    }

    /// A uniformly random 64-bit value from the system CSPRNG.
    public static func randomUInt64() -> UInt64 {
        let b = randomBytes(8)
        return b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    /// BLAKE2b with an output of `length` bytes (16…64), optionally keyed.
    public static func blake2b(_ input: some Collection<UInt8>, length: Int = 32, key: [UInt8] = []) -> [UInt8] {
        ensureReady()
        precondition(length >= 16 && length <= 64, "BLAKE2b output length \(length) out of range")
        var out = [UInt8](repeating: 0, count: length)
        let bytes = Array(input)
        let rc = bytes.withUnsafeBufferPointer { inp in
            key.withUnsafeBufferPointer { k in
                crypto_generichash(
                    &out, length, inp.baseAddress, UInt64(inp.count),
                    k.isEmpty ? nil : k.baseAddress, k.count)
            }
        }
        precondition(rc == 0, "crypto_generichash failed with valid lengths")
        return out
    }

    /// Constant-time comparison of two byte strings of equal length.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return sodium_memcmp(a, b, a.count) == 0
    }

    /// ISO/IEC 7816-4 padding to a multiple of `blockSize` (always adds at least one byte).
    public static func pad(_ input: [UInt8], blockSize: Int) -> [UInt8] {
        ensureReady()
        var buf = input + [UInt8](repeating: 0, count: blockSize)
        var paddedLen = 0
        let rc = buf.withUnsafeMutableBufferPointer { p in
            sodium_pad(&paddedLen, p.baseAddress!, input.count, blockSize, p.count)
        }
        precondition(rc == 0, "sodium_pad failed with room for a full block")
        return Array(buf.prefix(paddedLen))
    }

    /// Removes ISO/IEC 7816-4 padding; nil when the padding is malformed.
    public static func unpad(_ input: [UInt8], blockSize: Int) -> [UInt8]? {
        ensureReady()
        guard !input.isEmpty, input.count % blockSize == 0 else { return nil }
        var unpaddedLen = 0
        let rc = input.withUnsafeBufferPointer { p in
            sodium_unpad(&unpaddedLen, p.baseAddress!, p.count, blockSize)
        }
        guard rc == 0 else { return nil }
        return Array(input.prefix(unpaddedLen))
    }
}
