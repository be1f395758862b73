import EstafetteCore
import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    FuzzSeeds.writeIfAsked(seeds)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    CodedFuzz.run(FuzzInput(data, size))
    return 0
}

/// Operation bytes: see `CodedFuzz.step`. A genuine combination is op 0, a 64-bit member mask, then one
/// coefficient per member.
func seeds() -> [(name: String, bytes: [UInt8])] {
    func header(_ variant: UInt8, lengths: [UInt16]) -> [UInt8] {
        var h: [UInt8] = [variant, UInt8(lengths.count - 1)]
        for l in lengths { h.appendBE(l) }
        return h
    }
    func combination(_ mask: UInt64, _ coefficients: [UInt8]) -> [UInt8] {
        var b: [UInt8] = [0]
        b.appendBE(mask)
        return b + coefficients
    }
    let three = header(0, lengths: [100, 300, 200])
    let solveAll = three + combination(0b111, [1, 2, 3]) + combination(0b111, [4, 5, 6]) + combination(0b111, [7, 8, 9])
    let learnThenSolve = three + combination(0b011, [9, 9]) + [3, 0] + combination(0b110, [1, 1])
    let forged = three + combination(0b011, [9, 9]) + [2, 3, 0, 5, 1, 1, 7, 2, 3, 9, 0, 4, 1, 2, 3, 4] + [5]
    let expiring = three + combination(0b011, [9, 9]) + [4, 0x10, 0x00] + combination(0b011, [1, 2])
    var many = header(1, lengths: Array(repeating: 500, count: 12))
    for i in 0..<8 { many += combination(0xFFF, (0..<12).map { UInt8(1 + (i * 12 + $0) % 255) }) }
    return [
        ("solve-all", solveAll), ("learn-then-solve", learnThenSolve), ("forged", forged), ("expiring", expiring),
        ("bounded-rows", many),
    ]
}
