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
    EnvelopeFuzz.run(FuzzInput(data, size))
    return 0
}

func seeds() -> [(name: String, bytes: [UInt8])] {
    var out: [(name: String, bytes: [UInt8])] = []
    out.append(("raw-alert", [0] + Samples.alert("storm warning: stay indoors").encoded()))
    out.append(("raw-direct", [0] + Samples.direct("hi Bob", to: Samples.bob.publicKey).encoded()))
    out.append(("raw-direct-other", [0] + Samples.direct("hi Alice", to: Samples.alice.publicKey).encoded()))
    out.append(("raw-channel", [0] + Samples.channel(bodyBytes: 50, seed: 3).encoded()))
    out.append(("raw-header-only", [0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0]))
    // Mode 1: a well-padded inner layer (Alice's key, a nonce, a short box), sealed to Bob by the harness.
    var m1: [UInt8] = [1]
    m1.appendBE(Samples.nowSeconds + 3600)
    m1 += Sodium.pad(Samples.alice.publicKey.bytes + [UInt8](repeating: 1, count: 24 + 40), blockSize: 256)
    out.append(("sealed-inner", m1))
    // Mode 2: a valid plaintext (created_at, expires_at, type 1, text), and one with a wrong inner expiry.
    for (name, skew) in [("boxed-text", UInt64(0)), ("boxed-expiry-mismatch", 1)] {
        var m2: [UInt8] = [2]
        m2.appendBE(Samples.nowSeconds + 3600)
        m2.append(0)
        m2.appendBE(Samples.nowSeconds)
        m2.appendBE(Samples.nowSeconds + 3600 + skew)
        m2.append(1)
        m2 += Array("hello Bob, é ✓".utf8)
        out.append((name, m2))
    }
    // Mode 2: a delivery receipt (type 3, a 32-byte envelope ID).
    var receipt: [UInt8] = [2]
    receipt.appendBE(Samples.nowSeconds + 3600)
    receipt.append(0)
    receipt.appendBE(Samples.nowSeconds)
    receipt.appendBE(Samples.nowSeconds + 3600)
    receipt.append(3)
    receipt += [UInt8](repeating: 0x5A, count: 32)
    out.append(("boxed-receipt", receipt))
    // Mode 3: an alert from fields.
    var m3: [UInt8] = [3]
    m3.appendBE(Samples.nowSeconds + 3600)
    m3 += [2, 0xAA, 0xBB]  // tag length 2 (from the range 0…16) and the tag
    m3.appendBE(UInt64(5))
    m3.appendBE(Samples.nowSeconds)
    let text = Array("road closed at the bridge".utf8)
    m3.appendBE(UInt16(text.count))
    m3 += text
    out.append(("fields-alert", m3))
    return out
}
