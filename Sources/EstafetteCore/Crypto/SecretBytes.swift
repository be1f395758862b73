import CSodium

/// Secret bytes in guarded memory, for keys and anything derived from them.
///
/// The bytes live in their own `sodium_malloc` region: guard pages on both sides (an overrun faults instead of
/// reading a neighbour), a canary checked when the region is freed, and `mlock` where the system allows it (so the
/// secret is not swapped out; libsodium carries on unlocked when the limit is reached). The region is zeroed on
/// allocation and wiped by `sodium_free` when the object is released. `protect(_:)` can make the region read-only
/// or inaccessible between uses. Reusable for any secret: identity keys, data keys, precomputed shared keys.
public final class SecretBytes: @unchecked Sendable {
    // The pointer itself never changes; the bytes are written only through `withUnsafeMutableBytes` / `wipe`,
    // whose callers serialise access (a key is written once at creation; a cache owns its region alone).
    private let pointer: UnsafeMutableRawPointer
    public let count: Int

    /// How the region may be accessed (`sodium_mprotect_*`).
    public enum Access: Sendable {
        case noAccess, readOnly, readWrite
    }

    /// `count` zero bytes in a fresh guarded region. Running out of memory for a secret is fatal: there is no
    /// safe way on without it.
    public init(count: Int) {
        Sodium.ensureReady()
        precondition(count >= 0, "SecretBytes count \(count) is negative")
        // sodium_malloc(0) returns a valid region too; keep at least one byte so the pointer is always usable.
        guard let p = sodium_malloc(max(count, 1)) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory")
        }
        self.pointer = p
        self.count = count
        sodium_memzero(p, max(count, 1))
    }

    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { pointer.copyMemory(from: base, byteCount: bytes.count) }
        }
    }

    deinit {
        // Makes the region writable again, checks the canary (a corrupted one aborts), wipes, unlocks, unmaps.
        sodium_free(pointer)
    }

    /// Changes how the region may be accessed. Reading a `.noAccess` region faults (by design: a stray read of a
    /// secret crashes instead of leaking it). Throws when the system refuses the change.
    public func protect(_ access: Access) throws(CryptoError) {
        let rc: Int32
        switch access {
        case .noAccess: rc = sodium_mprotect_noaccess(pointer)
        case .readOnly: rc = sodium_mprotect_readonly(pointer)
        case .readWrite: rc = sodium_mprotect_readwrite(pointer)
        }
        guard rc == 0 else { throw .memoryProtectionFailed }
    }

    /// Gives the bytes to `body` for the duration of the call. Do not let them escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E)
        -> R
    {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// Zeroes `range` (`sodium_memzero`: not optimised away), e.g. one slot of a cache on eviction.
    public func wipe(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "wipe \(range) outside 0..<\(count)")
        guard !range.isEmpty else { return }
        sodium_memzero(pointer + range.lowerBound, range.count)
    }

    /// Zeroes every byte.
    public func wipe() { wipe(0..<count) }

    /// A copy of the bytes in ordinary memory: only for writing the key file or tests.
    public func exposedCopy() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }
}

extension SecretBytes: CustomStringConvertible {
    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
}
