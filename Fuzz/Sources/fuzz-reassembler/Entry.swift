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
    ReassemblerFuzz.run(FuzzInput(data, size))
    return 0
}

/// Operation bytes: op, envelope, then the op's own fields (see `ReassemblerFuzz.step`).
func seeds() -> [(name: String, bytes: [UInt8])] {
    /// Length choices index `ReassemblerFuzz.lengths`: 0 is the shortest fragmented envelope (2 fragments),
    /// 1 the longest (29 fragments), 2 exactly 2 fragments, then pairs: 2f - 1 is f - 1 fragments and one byte,
    /// 2f exactly f fragments (4: 3 fragments).
    func header(_ variant: UInt8, lengths: [UInt8]) -> [UInt8] {
        [variant, UInt8(lengths.count - 1)] + lengths
    }
        var inOrder = header(0, lengths: [4])
    for i in 0..<3 { inOrder += [0, 0, UInt8(i)] }
    var withParity = header(0, lengths: [4])
    withParity += [0, 0, 0, 0, 0, 2, 2, 0, 0]  // fragments 0 and 2, then parity 0
    var twoParities = header(0, lengths: [38])
    twoParities += [0, 0, 1, 0, 0, 5, 2, 0, 3, 2, 0, 200]  // two fragments missing of many, two parities
    for i in 0..<19 where i != 3 && i != 7 { twoParities += [0, 0, UInt8(i)] }
    var interleaved = header(0, lengths: [0, 15])
    interleaved += [0, 0, 0, 6, 0, 3, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 2]
    var forged = header(0, lengths: [5])
    forged += [0, 0, 0, 7, 0, 1, 1, 0, 5, 0, 0, 1, 0, 0, 2, 0, 0, 3]
    var expiring = header(0, lengths: [5])
    expiring += [0, 0, 0, 5, 0, 0x27, 0x10, 0, 0, 1, 0, 0, 2]
    var bounded = header(7, lengths: [1, 1])
    for i in 0..<12 { bounded += [0, UInt8(i % 2), UInt8(i)] }
    return [
        ("in-order", inOrder), ("parity-rebuild", withParity), ("two-parities", twoParities),
        ("interleaved", interleaved), ("forged", forged), ("expiring", expiring), ("bounded", bounded),
    ]
}
