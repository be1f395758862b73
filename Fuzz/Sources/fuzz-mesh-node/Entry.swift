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
    MeshNodeFuzz.run(FuzzInput(data, size))
    return 0
}

/// Operation bytes: op, session selector (< 200: peer 1 + next byte % 8), then the op's fields (see
/// `MeshNodeFuzz.step`).
func seeds() -> [(name: String, bytes: [UInt8])] {
    func header(_ variant: UInt8) -> [UInt8] { [variant, 0, 0, 0, 0, 0, 0, 0, 42] }
    func op(_ code: UInt8, peer: UInt8 = 0, _ fields: [UInt8] = []) -> [UInt8] { [code, 0, peer] + fields }
    let n = UInt8(Pool.envelopes.count)
    // Every genuine envelope, then time passing (beacons), and a jump past their expiry (a sweep).
    var everything = header(0)
    for k in 0..<n { everything += op(0, peer: k % 3, [k]) }
    everything += op(8, [1, 0x01, 0x00]) + op(8, [0, 0xFF, 0xFF]) + op(8, [0xF0, 0x10, 0x00])
    // A long envelope in pieces, one lost, rebuilt from a parity with another index.
    var pieces = header(0)
    for i: UInt8 in [0, 1, 3, 4, 5, 6, 7, 8, 9, 10] { pieces += op(1, [1, i]) }
    pieces += op(1, [1, 200]) + op(8, [1, 0x10, 0x00])
    // A repair round: a beacon showing more held, an inventory, a want for us, time for the burst.
    var round = header(0) + op(0, [0]) + op(0, [4])
    round += op(2, [0, 0, 0, 0, 9, 1]) + op(3, [3, 0, 1, 2, 0, 0, 0, 9, 200] + [UInt8](repeating: 7, count: 32))
    round += op(4, [1, 2, 0, 4, 0, 0, 2]) + op(8, [1, 0x0F, 0xA0]) + op(8, [1, 0x2F, 0xA0])
    // Coded packets: a true combination of all short envelopes, then one forged.
    var coded = header(0) + op(5, [0xFF, 3, 5, 7, 9, 11, 13, 200]) + op(5, [0x03, 1, 1, 0])
    coded += op(0, [0]) + op(8, [1, 0x40, 0x00])
    // Local sends, a failing store, and small bounds.
    var local = header(0x21) + op(9, [0]) + op(9, [2]) + op(9, [7]) + op(9, [0]) + op(8, [0xF0, 0x10, 0x00])
    local += op(7, [0, 5, 1, 2, 3, 4, 5])
    return [("everything", everything), ("pieces", pieces), ("repair-round", round), ("coded", coded), ("local", local)]
}
