import EstafetteCore

/// GF(2⁸) with the polynomial 0x11D, written independently of the code under test (shift-and-add, no tables),
/// so that the targets can compute what a coded packet or a parity must hold.
public enum GFOracle {
    /// Shift-and-add multiplication, the definition.
    static func slowMul(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = UInt16(a)
        var b = b
        var p: UInt16 = 0
        while b != 0 {
            if b & 1 != 0 { p ^= a }
            a <<= 1
            if a & 0x100 != 0 { a ^= 0x11D }
            b >>= 1
        }
        return UInt8(p)
    }

    /// Every product, from the definition, once (a lookup keeps the targets fast).
    static let products: [UInt8] = (0..<65_536).map { slowMul(UInt8($0 >> 8), UInt8($0 & 0xFF)) }

    public static func mul(_ a: UInt8, _ b: UInt8) -> UInt8 { products[Int(a) << 8 | Int(b)] }

    /// Σ cᵢ·xᵢ, each xᵢ zero-padded to the longest.
    public static func combine(_ terms: [(coefficient: UInt8, bytes: [UInt8])]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: terms.map(\.bytes.count).max() ?? 0)
        products.withUnsafeBufferPointer { table in
            out.withUnsafeMutableBufferPointer { o in
                for t in terms {
                    let row = Int(t.coefficient) << 8
                    t.bytes.withUnsafeBufferPointer { x in
                        for i in 0..<x.count { o[i] ^= table[row | Int(x[i])] }
                    }
                }
            }
        }
        return out
    }
}

/// Deterministic bytes for the targets' ground truth.
public func seededBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    var out: [UInt8] = []
    out.reserveCapacity(count + 8)
    while out.count < count {
        let v = rng.next()
        for s in stride(from: 0, to: 64, by: 8) where out.count < count { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }
    return out
}

/// 64 KiB of seeded bytes: ground truth is cut from it, at no cost per run.
public let noise = seededBytes(65_536, seed: 0x5EED)

/// `bytes` equals `truth` followed by zeros (a solved unknown is zero-padded to its combination's length).
public func isZeroPadded(_ bytes: [UInt8], of truth: [UInt8]) -> Bool {
    guard bytes.count >= truth.count else { return false }
    return bytes[..<truth.count].elementsEqual(truth) && bytes[truth.count...].allSatisfy { $0 == 0 }
}
