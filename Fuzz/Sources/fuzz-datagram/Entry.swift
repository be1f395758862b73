@_spi(Fuzzing) import EstafetteCore
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
    DatagramFuzz.run(FuzzInput(data, size))
    return 0
}

func seeds() -> [(name: String, bytes: [UInt8])] {
    let key = MeshKey.publicDefault
    var out: [(name: String, bytes: [UInt8])] = []
    // Sealed with a fixed nonce, so that the seeds are the same on every run.
    let nonce = [UInt8](repeating: 0x42, count: 24)
    for (name, packet) in Samples.packets() {
        let plain = key.openPlaintext(key.seal(packet, session: 0x1122_3344_5566_7788))!
        out.append(("raw-\(name)", [0] + key.sealPlaintext(plain, nonce: nonce)))
        out.append(("plain-\(name)", [1] + plain))
    }
    // Fields (mode 2): a beacon, a want, a fragment.
    var beacon: [UInt8] = [2]
    beacon.appendBE(UInt64(42))
    beacon += [1, 0, 0, 0, 5] + [UInt8](repeating: 0xAB, count: 32)
    var want: [UInt8] = [2]
    want.appendBE(UInt64(42))
    want += [5]
    want.appendBE(UInt64(7))
    want.appendBE(UInt16(3))
    want += [2]
    want.appendBE(UInt64(1))
    want.appendBE(UInt64(2))
    var fragment: [UInt8] = [2]
    fragment.appendBE(UInt64(42))
    fragment += [3]
    fragment.appendBE(UInt64(9))
    fragment.appendBE(UInt32(0))
    fragment.appendBE(UInt32(2000))
    fragment.appendBE(UInt16(100))
    fragment += [UInt8](repeating: 0x33, count: 100)
    out += [("fields-beacon", beacon), ("fields-want", want), ("fields-fragment", fragment)]
    // Edge cases: empty, the header alone, an unknown type, a wrong version.
    out.append(("edge-empty", []))
    out.append(("edge-plain-header", [1, 9, 0, 0, 0, 0, 0, 0, 0, 1]))
    out.append(("edge-plain-type-0", [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF]))
    var wrongVersion = key.sealPlaintext([1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32), nonce: nonce)
    wrongVersion[2] = 2
    out.append(("edge-raw-version-2", [0] + wrongVersion))
    return out
}
