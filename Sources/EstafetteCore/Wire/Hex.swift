extension Array where Element == UInt8 {
    /// Bytes from hexadecimal digits (either case, no separators); nil for an odd count or any other character.
    public init?(hexDigits text: some Collection<UInt8>) {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var it = text.makeIterator()
        while let hi = it.next(), let lo = it.next() {
            guard let h = Self.nibble(hi), let l = Self.nibble(lo) else { return nil }
            out.append(h << 4 | l)
        }
        self = out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
