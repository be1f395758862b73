// Big-endian cursor and appends over byte arrays, for the bodies of messages (`Alert`, `DirectMessage`), which are
// built and read as arrays. Packets and envelopes use `ByteBuffer` codecs (`Packet+Codec.swift`, `Envelope.swift`).

/// Big-endian helpers over byte arrays.
extension Array where Element == UInt8 {
    mutating func appendBE(_ v: UInt64) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendBE(_ v: UInt32) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendBE(_ v: UInt16) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }
}

/// A bounds-checked cursor over bytes.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func read(_ n: Int) -> [UInt8]? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func readU64() -> UInt64? {
        guard let b = read(8) else { return nil }
        return b.reduce(0) { ($0 << 8) | UInt64($1) }
    }

    mutating func readU16() -> UInt16? {
        guard let b = read(2) else { return nil }
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func readU8() -> UInt8? {
        read(1)?[0]
    }

    mutating func rest() -> [UInt8] {
        read(remaining) ?? []
    }
}
