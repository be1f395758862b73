import NIOCore

/// Helpers shared by the wire codecs (`readEnvelope`, the packet payload readers, `MeshKey.open`).
extension ByteBuffer {
    /// Runs `body`, restoring the reader index when it returns nil (more bytes needed) or throws (malformed), as
    /// NIOSOCKS's `parseUnwindingIfNeeded` does: a failed read consumes nothing.
    mutating func parseUnwindingIfNeeded<T>(
        _ body: (inout ByteBuffer) throws(WireError) -> T?
    ) throws(WireError) -> T? {
        let saved = readerIndex
        do {
            guard let value = try body(&self) else {
                moveReaderIndex(to: saved)
                return nil
            }
            return value
        } catch {
            moveReaderIndex(to: saved)
            throw error
        }
    }

    /// As `parseUnwindingIfNeeded`, for readers that never need more bytes: they read a whole datagram.
    mutating func unwindingOnThrow<T>(_ body: (inout ByteBuffer) throws(WireError) -> T) throws(WireError) -> T {
        let saved = readerIndex
        do {
            return try body(&self)
        } catch {
            moveReaderIndex(to: saved)
            throw error
        }
    }

    /// A 32-byte envelope ID (or digest), or nil when fewer bytes are left.
    mutating func readEnvelopeID() -> EnvelopeID? {
        readBytes(length: 32).map(EnvelopeID.init(bytes:))
    }

    @discardableResult
    mutating func writeEnvelopeID(_ id: EnvelopeID) -> Int {
        writeInteger(id.w0) + writeInteger(id.w1) + writeInteger(id.w2) + writeInteger(id.w3)
    }
}
