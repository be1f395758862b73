/// A cursor over a fuzzer's input: each read takes the next bytes, and reads past the end give zeros, so a
/// target never has to handle a short input specially (libFuzzer shrinks inputs towards the shortest that
/// still reach a path).
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        self.bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    public var remaining: Int { bytes.count - offset }
    public var isEmpty: Bool { remaining == 0 }

    public mutating func u8() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    public mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
    public mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }
    public mutating func bool() -> Bool { u8() & 1 == 1 }

    /// A value in `range`, from as few bytes as the range needs.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound)
        let raw: UInt64
        switch span {
        case 0: return range.lowerBound
        case 1...0xFF: raw = UInt64(u8())
        case 0x100...0xFFFF: raw = UInt64(u16())
        case 0x1_0000...0xFFFF_FFFF: raw = UInt64(u32())
        default: raw = u64()
        }
        return range.lowerBound + Int(raw % (span &+ 1 == 0 ? UInt64.max : span + 1))
    }

    /// Up to `n` bytes (fewer at the end of the input).
    public mutating func bytes(_ n: Int) -> [UInt8] {
        let k = max(0, min(n, remaining))
        defer { offset += k }
        return Array(bytes[offset..<(offset + k)])
    }

    /// Exactly `n` bytes: zeros past the end of the input.
    public mutating func exactly(_ n: Int) -> [UInt8] {
        let b = bytes(n)
        return b + [UInt8](repeating: 0, count: n - b.count)
    }

    /// A length-prefixed byte string (u16 length, at most `max`).
    public mutating func blob(max: Int) -> [UInt8] {
        bytes(int(in: 0...max))
    }

    public mutating func rest() -> [UInt8] { bytes(remaining) }
}

/// Big-endian writers for building seeds and packets.
extension Array where Element == UInt8 {
    public mutating func appendBE(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
    public mutating func appendBE(_ v: UInt32) { appendBE(UInt64(v), width: 4) }
    public mutating func appendBE(_ v: UInt16) { appendBE(UInt64(v), width: 2) }

    mutating func appendBE(_ v: UInt64, width: Int) {
        for i in stride(from: width - 1, through: 0, by: -1) { append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }
}
