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
    RelayRecordFuzz.run(FuzzInput(data, size))
    return 0
}

func seeds() -> [(name: String, bytes: [UInt8])] {
    let envelope = Samples.direct("hi Bob", to: Samples.bob.publicKey).encoded()
    let records: [(String, RelayRecord)] = [
        ("want", .want([EnvelopeID(bytes: [UInt8](repeating: 7, count: 32))])),
        ("sync-done", .syncDone),
        ("envelope", .envelope(envelope)),
        ("live", .live(envelope)),
        ("ack", .ack(42)),
        ("keepalive", .keepalive),
        ("close", .close(.shuttingDown)),
        ("negentropy", .negentropy([0x61, 0x00, 0x00, 0x01])),
    ]
    var out = records.map { (name, r) in (name: "record-\(name)", bytes: [0] + r.encoded()) }
    // Mode 1: a stream of frames (2-byte length + message) in chunks.
    var stream: [UInt8] = [1, 0x20, 0x00]
    for (_, r) in records {
        let m = r.encoded()
        stream.appendBE(UInt16(m.count))
        stream += m
    }
    out.append(("frames", stream))
    out.append(("frames-empty-frame", [1, 3, 0x00, 0, 2, 6, 6, 0, 0, 1]))
    out.append(("frames-too-long", [1, 1, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 9, count: 64)))
    return out
}
