import NIOCore

/// One Noise message on a relay link's TCP stream, preceded by its length (Noise specification rev 34, §13):
///
/// ```
///  0          2
///  +----------+------------------------------------+
///  | length   | Noise message                      |
///  | u16 BE   | `length` bytes, 1 ... 65535        |
///  +----------+------------------------------------+
/// ```
///
/// A zero length is an error, not an empty message: no Noise message is empty (the shortest, a transport
/// message with no plaintext, is its 16-byte tag), so a zero can only come from a broken or hostile peer.
public enum NoiseFrame {
    /// Bytes of the length prefix.
    public static let headerLength = 2
    /// The longest Noise message, and so the largest length a frame can announce.
    public static let maxMessageLength = NoiseCrypto.maxMessageLength
}

/// Why a relay link's byte stream was rejected. After one, the stream is out of step: close the link.
public struct NoiseFrameError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case emptyFrame
        case frameTooLong
        case bufferFull
    }

    private let base: Base
    /// The value concerned, for messages and logs.
    public let detail: String

    private init(_ base: Base, _ detail: String = "") {
        self.base = base
        self.detail = detail
    }

    /// A frame announced zero bytes.
    public static let emptyFrame = NoiseFrameError(.emptyFrame)
    /// A frame announced (or a writer offered) more bytes than the limit in force.
    public static func frameTooLong(_ length: Int, maximum: Int) -> NoiseFrameError {
        .init(.frameTooLong, "\(length) > \(maximum)")
    }
    /// The peer sent more than the decoder may hold before the caller drained it.
    public static func bufferFull(_ bytes: Int, capacity: Int) -> NoiseFrameError {
        .init(.bufferFull, "\(bytes) > \(capacity)")
    }

    /// A stable snake_case name for counters and logs.
    public var reason: String {
        switch base {
        case .emptyFrame: return "empty_frame"
        case .frameTooLong: return "frame_too_long"
        case .bufferFull: return "buffer_full"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
}

extension ByteBuffer {
    /// Reads one frame and returns its Noise message, or nil when more bytes are needed. Throws on a zero
    /// length or one above `maximumLength` (at most 65535; a link may use less, for example during the
    /// handshake). The reader index does not move unless a whole frame is returned.
    public mutating func readNoiseFrame(maximumLength: Int = NoiseFrame.maxMessageLength) throws(NoiseFrameError)
        -> ByteBuffer?
    {
        precondition(
            (1...NoiseFrame.maxMessageLength).contains(maximumLength), "frame limit \(maximumLength) out of range")
        guard let length = getInteger(at: readerIndex, endianness: .big, as: UInt16.self) else { return nil }
        guard length > 0 else { throw .emptyFrame }
        guard Int(length) <= maximumLength else { throw .frameTooLong(Int(length), maximum: maximumLength) }
        guard readableBytes >= NoiseFrame.headerLength + Int(length) else { return nil }
        moveReaderIndex(forwardBy: NoiseFrame.headerLength)
        return readSlice(length: Int(length))
    }

    /// Writes `message` as one frame and returns the bytes written. Throws, writing nothing, for an empty
    /// message or one longer than 65535 bytes.
    @discardableResult
    public mutating func writeNoiseFrame(_ message: some Collection<UInt8>) throws(NoiseFrameError) -> Int {
        guard !message.isEmpty else { throw .emptyFrame }
        guard message.count <= NoiseFrame.maxMessageLength else {
            throw .frameTooLong(message.count, maximum: NoiseFrame.maxMessageLength)
        }
        let header = writeInteger(UInt16(message.count), endianness: .big)
        return header + writeBytes(message)
    }
}

/// An incremental, bounded frame decoder: bytes from the socket in, whole Noise messages out, with no I/O.
///
/// The shell calls ``receive(_:)`` with what it read, then ``nextFrame()`` until it returns nil. The decoder
/// holds at most ``capacity`` bytes (by default two largest frames), so a peer cannot make it grow without
/// bound; a shell that drains after every read of at most one largest frame (65537 bytes) never fills it.
/// After any error the decoder stays failed and keeps throwing that error.
public struct NoiseFrameDecoder: Sendable {
    /// The largest message length accepted; a longer announced length is an error before its bytes arrive.
    public var maximumFrameLength: Int {
        didSet {
            precondition(
                (1...NoiseFrame.maxMessageLength).contains(maximumFrameLength),
                "frame limit \(maximumFrameLength) out of range")
        }
    }
    /// The most bytes held between calls.
    public let capacity: Int
    private var buffer = ByteBuffer()
    private var failure: NoiseFrameError?

    public init(
        maximumFrameLength: Int = NoiseFrame.maxMessageLength,
        capacity: Int = 2 * (NoiseFrame.headerLength + NoiseFrame.maxMessageLength)
    ) {
        precondition(
            (1...NoiseFrame.maxMessageLength).contains(maximumFrameLength),
            "frame limit \(maximumFrameLength) out of range")
        precondition(capacity >= NoiseFrame.headerLength + maximumFrameLength, "capacity \(capacity) below one frame")
        self.maximumFrameLength = maximumFrameLength
        self.capacity = capacity
    }

    /// Bytes received and not yet returned as frames.
    public var bufferedBytes: Int { buffer.readableBytes }

    /// Appends bytes read from the stream. Throws ``NoiseFrameError/bufferFull(_:capacity:)`` (keeping none of
    /// them) if the decoder would then hold more than ``capacity`` bytes.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(NoiseFrameError) {
        if let failure { throw failure }
        guard buffer.readableBytes + bytes.count <= capacity else {
            let error = NoiseFrameError.bufferFull(buffer.readableBytes + bytes.count, capacity: capacity)
            failure = error
            throw error
        }
        buffer.discardReadBytes()
        buffer.writeBytes(bytes)
    }

    /// The next whole Noise message, or nil until more bytes arrive.
    public mutating func nextFrame() throws(NoiseFrameError) -> [UInt8]? {
        if let failure { throw failure }
        do throws(NoiseFrameError) {
            guard let frame = try buffer.readNoiseFrame(maximumLength: maximumFrameLength) else { return nil }
            return Array(frame.readableBytesView)
        } catch {
            failure = error
            throw error
        }
    }
}
