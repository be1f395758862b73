/// One Negentropy protocol v1 message, decoded (hoytech/negentropy `docs/negentropy-protocol-v1.md`).
///
/// ```
///  Message     := version (1 byte, 0x61) Range*
///  Range       := Bound  mode (Varint)  payload
///  Bound       := timestamp (Varint)  length (Varint, 0…32)  idPrefix (length bytes; missing bytes read as 0)
///  payload     := Skip (mode 0)         : nothing
///               | Fingerprint (mode 1)  : 16 bytes
///               | IdList (mode 2)       : count (Varint)  count × 32-byte ID
///  Varint      := base-128 digits, most significant first; the high bit is set on every byte but the last
///  timestamp   := 0 for infinity (2^64 − 1), else 1 + (timestamp − previous timestamp in this message)
/// ```
/// Ranges are adjacent: each starts where the previous one ended (the first at timestamp 0, empty prefix) and
/// ends, exclusive, at its bound. Space after the last bound is an implicit Skip. A message whose first byte is
/// another version in 0x60…0x6F decodes with no ranges, for version negotiation; any other first byte is an error.
struct NegentropyMessage: Hashable, Sendable {
    /// Protocol version 1.
    static let version: UInt8 = 0x61

    enum Payload: Hashable, Sendable {
        case skip
        case fingerprint(NegentropyFingerprint)
        case idList([EnvelopeID])
    }

    struct Range: Hashable, Sendable {
        var upperBound: NegentropyBound
        var payload: Payload
    }

    var version: UInt8
    var ranges: [Range]

    /// Decodes a whole message. Every length is checked against the bytes left before anything is allocated, so
    /// the work and memory are bounded by the message size.
    init(decoding bytes: [UInt8]) throws(NegentropyError) {
        var reader = NegentropyReader(bytes)
        let v = try reader.readByte("version")
        guard (0x60...0x6F).contains(v) else { throw .badVersion(v) }
        self.version = v
        self.ranges = []
        guard v == Self.version else { return }
        while !reader.isAtEnd {
            let bound = try reader.readBound()
            let mode = try reader.readVarint("mode")
            switch mode {
            case 0:
                ranges.append(Range(upperBound: bound, payload: .skip))
            case 1:
                let fp = try reader.readBytes(NegentropyFingerprint.byteCount, "fingerprint")
                ranges.append(Range(upperBound: bound, payload: .fingerprint(NegentropyFingerprint(bytes: fp))))
            case 2:
                let n = try reader.readVarint("id count")
                guard n <= UInt64(reader.remaining / 32) else { throw .truncated("id list of \(n)") }
                var ids: [EnvelopeID] = []
                ids.reserveCapacity(Int(n))
                for _ in 0..<n { ids.append(try reader.readID()) }
                ranges.append(Range(upperBound: bound, payload: .idList(ids)))
            default:
                throw .badMode(mode)
            }
        }
    }

    init(version: UInt8 = Self.version, ranges: [Range]) {
        self.version = version
        self.ranges = ranges
    }

    /// The canonical encoding (what `init(decoding:)` reads back).
    func encoded() -> [UInt8] {
        guard version == Self.version else { return [version] }
        var w = NegentropyWriter()
        for r in ranges {
            switch r.payload {
            case .skip:
                w.writeBound(r.upperBound, mode: .skip)
            case .fingerprint(let fp):
                w.writeBound(r.upperBound, mode: .fingerprint)
                w.write(fp)
            case .idList(let ids):
                w.writeBound(r.upperBound, mode: .idList)
                w.writeVarint(UInt64(ids.count))
                for id in ids { w.write(id) }
            }
        }
        return w.bytes
    }
}

/// Range modes on the wire.
enum NegentropyMode: UInt64, Sendable {
    case skip = 0
    case fingerprint = 1
    case idList = 2
}

/// Reads a message's fields in order, keeping the timestamp-delta state. Every read checks the bytes left.
struct NegentropyReader {
    private let bytes: [UInt8]
    private var offset = 0
    private var lastTimestamp: UInt64 = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func readByte(_ field: String) throws(NegentropyError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(field) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBytes(_ n: Int, _ field: String) throws(NegentropyError) -> ArraySlice<UInt8> {
        guard n <= remaining else { throw .truncated(field) }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    /// A varint of at most 64 bits. Leading zero digits are tolerated (they only cost the sender bytes).
    mutating func readVarint(_ field: String) throws(NegentropyError) -> UInt64 {
        var value: UInt64 = 0
        while true {
            let b = try readByte(field)
            guard value <= UInt64.max >> 7 else { throw .varintOverflow }
            value = value << 7 | UInt64(b & 0x7F)
            if b & 0x80 == 0 { return value }
        }
    }

    /// A bound, decoding its timestamp against the previous one in this message. Like the reference, a delta that
    /// would pass 2^64 − 1 saturates to infinity rather than failing.
    mutating func readBound() throws(NegentropyError) -> NegentropyBound {
        let encoded = try readVarint("bound timestamp")
        var timestamp: UInt64
        if encoded == 0 {
            timestamp = .max
        } else {
            let (sum, overflow) = (encoded - 1).addingReportingOverflow(lastTimestamp)
            timestamp = overflow ? .max : sum
        }
        lastTimestamp = timestamp
        let length = try readVarint("bound prefix length")
        guard length <= 32 else { throw .badPrefixLength(length) }
        let prefix = try readBytes(Int(length), "bound prefix")
        return NegentropyBound(timestamp: timestamp, prefix: prefix)
    }

    mutating func readID() throws(NegentropyError) -> EnvelopeID {
        let raw = try readBytes(32, "id")
        var w: [UInt64] = [0, 0, 0, 0]
        var i = raw.startIndex
        for k in 0..<4 {
            var v: UInt64 = 0
            for _ in 0..<8 {
                v = v << 8 | UInt64(raw[i])
                i += 1
            }
            w[k] = v
        }
        return EnvelopeID(w0: w[0], w1: w[1], w2: w[2], w3: w[3])
    }
}

/// Builds a message, keeping the timestamp-delta state. A `Mark` lets the session take back what it wrote for a
/// range that would not fit the frame.
struct NegentropyWriter {
    private(set) var bytes: [UInt8] = [NegentropyMessage.version]
    private var lastTimestamp: UInt64 = 0

    struct Mark {
        fileprivate let count: Int
        fileprivate let lastTimestamp: UInt64
    }

    var count: Int { bytes.count }
    var mark: Mark { Mark(count: bytes.count, lastTimestamp: lastTimestamp) }

    mutating func rollBack(to mark: Mark) {
        bytes.removeSubrange(mark.count...)
        lastTimestamp = mark.lastTimestamp
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var digits = 1
        while digits < 10 && value >> (7 * UInt64(digits)) != 0 { digits += 1 }
        for d in stride(from: digits - 1, through: 0, by: -1) {
            let digit = UInt8(truncatingIfNeeded: value >> (7 * UInt64(d))) & 0x7F
            out.append(d == 0 ? digit : digit | 0x80)
        }
    }

    mutating func writeVarint(_ value: UInt64) { Self.appendVarint(value, to: &bytes) }

    /// A bound followed by the range's mode. Bounds must not go down in timestamp within a message.
    mutating func writeBound(_ bound: NegentropyBound, mode: NegentropyMode) {
        let t = bound.record.timestamp
        if t == .max {
            writeVarint(0)
        } else {
            precondition(t >= lastTimestamp, "bound timestamp \(t) below the previous one \(lastTimestamp)")
            writeVarint(t - lastTimestamp + 1)
        }
        lastTimestamp = t
        writeVarint(UInt64(bound.prefixLength))
        bytes.append(contentsOf: bound.prefix)
        writeVarint(mode.rawValue)
    }

    mutating func write(_ fp: NegentropyFingerprint) { bytes.append(contentsOf: fp.bytes) }

    mutating func write(_ id: EnvelopeID) {
        appendBigEndian(id.w0)
        appendBigEndian(id.w1)
        appendBigEndian(id.w2)
        appendBigEndian(id.w3)
    }

    private mutating func appendBigEndian(_ w: UInt64) {
        withUnsafeBytes(of: w.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
