/// Arithmetic in GF(2⁸) with the polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D), the field of Reed–Solomon codes.
/// Addition is XOR; multiplication goes through a 64 KiB product table built once.
enum GF256 {
    /// `products[a << 8 | b] = a · b`.
    static let products: [UInt8] = {
        var exp = [UInt8](repeating: 0, count: 512)
        var log = [Int](repeating: 0, count: 256)
        var x = 1
        for i in 0..<255 {
            exp[i] = UInt8(x)
            log[x] = i
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
        }
        for i in 255..<512 { exp[i] = exp[i - 255] }
        var table = [UInt8](repeating: 0, count: 65_536)
        for a in 1..<256 {
            for b in 1..<256 { table[a << 8 | b] = exp[log[a] + log[b]] }
        }
        return table
    }()

    /// `inverses[a] · a = 1` for a ≠ 0.
    static let inverses: [UInt8] = {
        var inv = [UInt8](repeating: 0, count: 256)
        for a in 1..<256 {
            for b in 1..<256 where products[a << 8 | b] == 1 {
                inv[a] = UInt8(b)
                break
            }
        }
        return inv
    }()

    @inline(__always)
    static func mul(_ a: UInt8, _ b: UInt8) -> UInt8 { products[Int(a) << 8 | Int(b)] }

    /// aⁿ.
    static func power(_ a: UInt8, _ n: Int) -> UInt8 {
        var result: UInt8 = 1
        for _ in 0..<n { result = mul(result, a) }
        return result
    }

    static func inverse(_ a: UInt8) -> UInt8 {
        precondition(a != 0, "zero has no inverse in GF(256)")
        return inverses[Int(a)]
    }

    /// `target += c · source`, element by element; `target` grows with zeros to `source.count` if shorter.
    static func addScaled(_ source: [UInt8], times c: UInt8, into target: inout [UInt8]) {
        guard c != 0 else { return }
        if target.count < source.count { target += [UInt8](repeating: 0, count: source.count - target.count) }
        let row = Int(c) << 8
        products.withUnsafeBufferPointer { table in
            source.withUnsafeBufferPointer { src in
                target.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count { dst[i] ^= table[row | Int(src[i])] }
                }
            }
        }
    }

    /// `target = c · target`.
    static func scale(_ target: inout [UInt8], by c: UInt8) {
        let row = Int(c) << 8
        products.withUnsafeBufferPointer { table in
            target.withUnsafeMutableBufferPointer { dst in
                for i in 0..<dst.count { dst[i] = table[row | Int(dst[i])] }
            }
        }
    }
}
