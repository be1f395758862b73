/// An envelope bundle: the file `estafette export` writes and `estafette import` reads, a transport carried by
/// hand (a USB stick) between islands with no network path. Byte for byte in docs/protocol.md, "Envelope
/// bundles".
///
/// ```
///  0                   8       9      12
/// +-------------------+-------+------+
/// | magic (8)         | ver=1 | 0 0 0|                                   header, 12 bytes
/// +-------------------+-------+------+
/// | len (u32 BE, 1…maxEncodedBytes) | envelope (len bytes) |         one record per envelope
/// +---------------------------------+----------------------+
/// | 0 0 0 0 (u32 0: end of records) | count (u64 BE) | BLAKE2b-256 (32) |     trailer, 44 bytes
/// +---------------------------------+----------------+------------------+
/// ```
/// The magic is `89 45 53 42 0D 0A 1A 0A` (`\x89ESB\r\n\x1a\n`, after PNG's: a transfer that rewrites line ends
/// or strips the high bit breaks it at once). The checksum covers every byte before it, header included. It
/// detects truncation and corruption; it is no signature (anyone can recompute it): each envelope is still
/// validated like one from the network.
public enum EnvelopeBundle {
    public static let magic: [UInt8] = [0x89, 0x45, 0x53, 0x42, 0x0D, 0x0A, 0x1A, 0x0A]
    public static let version: UInt8 = 1
    public static let headerBytes = 12
    /// End marker, count and checksum.
    public static let trailerBytes = 4 + 8 + 32
    public static let checksumBytes = 32
    /// Largest bundle read or written: 1 GiB (about three million envelopes of a typical size).
    public static let maxBundleBytes = 1 << 30
    /// Longest record: the longest valid envelope.
    public static let maxRecordBytes = Envelope.maxEncodedBytes

    /// The header every bundle starts with.
    public static var header: [UInt8] { magic + [version, 0, 0, 0] }

    /// Produces a bundle's bytes piece by piece (the caller writes them out), hashing as it goes.
    public struct Writer {
        private let hasher = Blake2bHasher(length: EnvelopeBundle.checksumBytes)
        public private(set) var count: UInt64 = 0
        /// Bytes produced so far.
        public private(set) var bytes = 0

        public init() {}

        /// The header. Call first, once.
        public mutating func start() -> [UInt8] { emit(EnvelopeBundle.header) }

        /// One record. The envelope must be 1…`maxRecordBytes` long (as every stored envelope is).
        public mutating func append(_ envelope: [UInt8]) -> [UInt8] {
            precondition(
                !envelope.isEmpty && envelope.count <= EnvelopeBundle.maxRecordBytes,
                "bundle record of \(envelope.count) bytes")
            count += 1
            return emit(bigEndian(UInt64(envelope.count), width: 4) + envelope)
        }

        /// The trailer. Call last, once.
        public mutating func finish() -> [UInt8] {
            var out = emit([0, 0, 0, 0] + bigEndian(count, width: 8))
            let sum = hasher.finalize()
            out += sum
            bytes += sum.count
            return out
        }

        private mutating func emit(_ part: [UInt8]) -> [UInt8] {
            hasher.update(part)
            bytes += part.count
            return part
        }
    }

    /// Reads a bundle from chunks of any size, sans I/O: `feed` returns the envelopes completed so far, `finish`
    /// checks that the bundle ended where its trailer says. Every length is checked before anything is held, and
    /// at most one record (plus the chunk being fed) is buffered. A bundle is valid only once `finish` returns:
    /// a caller that must import nothing from a bad bundle reads it once to check it, then again to import.
    public struct Reader {
        enum State: Equatable {
            case header, length, record(Int), count, checksum, done
        }

        private var state = State.header
        private var buffer: [UInt8] = []
        private var offset = 0
        private let hasher = Blake2bHasher(length: EnvelopeBundle.checksumBytes)
        /// Records read so far.
        public private(set) var count: UInt64 = 0
        /// Bytes consumed so far.
        public private(set) var position = 0

        public init() {}

        /// Consumes a chunk; returns the envelopes it completed, in order.
        public mutating func feed(_ chunk: some Collection<UInt8>) throws(BundleError) -> [[UInt8]] {
            guard state != .done || chunk.isEmpty else { throw .trailingBytes(at: position) }
            guard position + (buffer.count - offset) + chunk.count <= EnvelopeBundle.maxBundleBytes else {
                throw .tooLarge(limit: EnvelopeBundle.maxBundleBytes)
            }
            if offset > 0 {
                buffer.removeFirst(offset)
                offset = 0
            }
            buffer.append(contentsOf: chunk)
            var out: [[UInt8]] = []
            while let next = try step() {
                if let envelope = next { out.append(envelope) }
            }
            return out
        }

        /// Checks that the bundle is complete: the trailer was read and nothing follows it.
        public func finish() throws(BundleError) {
            guard state == .done else { throw .truncated(at: position + buffer.count - offset) }
        }

        /// Takes `n` bytes when they are buffered.
        private mutating func take(_ n: Int, hashed: Bool = true) -> ArraySlice<UInt8>? {
            guard buffer.count - offset >= n else { return nil }
            let part = buffer[offset..<(offset + n)]
            if hashed { hasher.update(part) }
            offset += n
            position += n
            return part
        }

        /// One parsing step: nil when more bytes are needed, `.some(nil)` after a step that completed no envelope.
        private mutating func step() throws(BundleError) -> [UInt8]?? {
            switch state {
            case .header:
                let at = position
                guard let h = take(EnvelopeBundle.headerBytes) else { return nil }
                guard h.prefix(8).elementsEqual(EnvelopeBundle.magic) else { throw .notABundle }
                let v = h[h.startIndex + 8]
                guard v == EnvelopeBundle.version else { throw .unsupportedVersion(v) }
                guard h.suffix(3).allSatisfy({ $0 == 0 }) else { throw .reservedNotZero(at: at + 9) }
                state = .length
            case .length:
                let at = position
                guard let l = take(4) else { return nil }
                let len = Int(readBigEndian(l))
                if len == 0 {
                    state = .count
                } else {
                    guard len <= EnvelopeBundle.maxRecordBytes else {
                        throw .recordTooLong(len, limit: EnvelopeBundle.maxRecordBytes, at: at)
                    }
                    state = .record(len)
                }
            case .record(let len):
                guard let body = take(len) else { return nil }
                count += 1
                state = .length
                return .some(Array(body))
            case .count:
                guard let c = take(8) else { return nil }
                let stated = readBigEndian(c)
                guard stated == count else { throw .countMismatch(stated: stated, read: count) }
                state = .checksum
            case .checksum:
                guard let sum = take(EnvelopeBundle.checksumBytes, hashed: false) else { return nil }
                guard Sodium.constantTimeEqual(hasher.finalize(), Array(sum)) else { throw .checksumMismatch }
                state = .done
                if buffer.count > offset { throw .trailingBytes(at: position) }
                return nil
            case .done:
                return nil
            }
            return .some(nil)
        }
    }
}

/// Why a bundle was refused. Every case says where, so a person can tell a truncated copy from a damaged one.
public enum BundleError: Error, Equatable, Sendable, CustomStringConvertible {
    case notABundle
    case unsupportedVersion(UInt8)
    case reservedNotZero(at: Int)
    case recordTooLong(Int, limit: Int, at: Int)
    case truncated(at: Int)
    case countMismatch(stated: UInt64, read: UInt64)
    case checksumMismatch
    case trailingBytes(at: Int)
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .notABundle:
            return "not an Estafette bundle (wrong magic bytes; was it copied in text mode?)"
        case .unsupportedVersion(let v):
            return "bundle format version \(v) is not supported (this version reads version \(EnvelopeBundle.version))"
        case .reservedNotZero(let at):
            return "bundle header is damaged (reserved byte at offset \(at) is not zero)"
        case .recordTooLong(let len, let limit, let at):
            return "bundle is damaged: a record at offset \(at) claims \(len) bytes (at most \(limit))"
        case .truncated(let at):
            return "bundle is truncated: it ends after \(at) bytes, before its checksum (an incomplete copy?)"
        case .countMismatch(let stated, let read):
            return "bundle is damaged: its trailer counts \(stated) envelopes, \(read) were read"
        case .checksumMismatch:
            return "bundle is damaged or was tampered with: its BLAKE2b checksum does not match"
        case .trailingBytes(let at):
            return "bundle is damaged: bytes follow its checksum (offset \(at))"
        case .tooLarge(let limit):
            return "bundle is larger than \(limit) bytes"
        }
    }
}

private func bigEndian(_ v: UInt64, width: Int) -> [UInt8] {
    (0..<width).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
}

private func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.reduce(0) { $0 << 8 | UInt64($1) }
}
