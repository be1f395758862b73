import CSodium

/// Incremental BLAKE2b (libsodium's `crypto_generichash_init/update/final`): hashes a stream of any length
/// without holding it, for the integrity check of an envelope bundle (docs/protocol.md, "Envelope bundles").
public final class Blake2bHasher {
    /// Output length in bytes.
    public let length: Int
    private let state: UnsafeMutableRawPointer
    private var finished = false

    /// A hasher with an output of `length` bytes (16…64), unkeyed.
    public init(length: Int = 32) {
        Sodium.ensureReady()
        precondition(length >= 16 && length <= 64, "BLAKE2b output length \(length) out of range")
        self.length = length
        // The state is an opaque, 64-byte-aligned structure of crypto_generichash_statebytes() bytes.
        state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        let rc = crypto_generichash_init(OpaquePointer(state), nil, 0, length)
        precondition(rc == 0, "crypto_generichash_init failed with valid lengths")
    }

    deinit {
        sodium_memzero(state, crypto_generichash_statebytes())
        state.deallocate()
    }

    /// Adds bytes to the hash.
    public func update(_ bytes: some Collection<UInt8>) {
        precondition(!finished, "Blake2bHasher updated after finalize()")
        let rc = bytes.withContiguousStorageIfAvailable { p in
            crypto_generichash_update(
                OpaquePointer(state), p.baseAddress, UInt64(p.count))
        }
        if let rc {
            precondition(rc == 0, "crypto_generichash_update failed")
        } else {
            update(Array(bytes))
        }
    }

    /// The hash of everything added. Call once.
    public func finalize() -> [UInt8] {
        precondition(!finished, "Blake2bHasher finalized twice")
        finished = true
        var out = [UInt8](repeating: 0, count: length)
        let rc = crypto_generichash_final(OpaquePointer(state), &out, length)
        precondition(rc == 0, "crypto_generichash_final failed")
        return out
    }
}
