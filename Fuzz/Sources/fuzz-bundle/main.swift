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
    BundleFuzz.run(FuzzInput(data, size))
    return 0
}

func seeds() -> [(name: String, bytes: [UInt8])] {
    let envelopes = [
        Samples.alert("storm warning: stay indoors").encoded(),
        Samples.direct("hi Bob", to: Samples.bob.publicKey).encoded(),
        Samples.channel(bodyBytes: 50, seed: 3).encoded(),
    ]
    var valid = EnvelopeBundle.Writer()
    var bytes = valid.start()
    for e in envelopes { bytes += valid.append(e) }
    bytes += valid.finish()
    var empty = EnvelopeBundle.Writer()
    let emptyBytes = empty.start() + empty.finish()
    // Mode 1 builds a bundle from the records given.
    // mode, chunking, flip position (u16), count, then each record's length less one (u16) and its bytes.
    var built: [UInt8] = [1, 0x10, 0x00, 0x05, 3]
    for e in envelopes.prefix(3) {
        built.appendBE(UInt16(e.count - 1))
        built += e
    }
    return [
        ("raw-valid", [0, 7] + bytes),
        ("raw-valid-one-chunk", [0, 0] + bytes),
        ("raw-empty", [0, 3] + emptyBytes),
        ("raw-truncated", [0, 5] + bytes.dropLast(10)),
        ("raw-trailing", [0, 9] + bytes + [0]),
        ("built-three", built),
    ]
}
