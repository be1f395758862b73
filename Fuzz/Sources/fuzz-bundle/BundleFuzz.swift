import EstafetteCore
import FuzzSupport

/// Fuzz target `bundle`: the envelope bundle reader (`EnvelopeBundle.Reader`), the file `estafette import` reads
/// from a USB stick that anyone may have handed over.
///
/// Input: mode u8, chunking u8, then
/// - mode 0: raw bundle bytes, fed in chunks whose sizes follow the chunking byte;
/// - mode 1: a flip position u16, a count u8 and that many records (length u16, bytes), written by
///   `EnvelopeBundle.Writer` and then read back, whole and with the byte at the flip position changed.
///
/// Checks: the reader's result (the envelopes and whether the bundle is valid) does not depend on how the bytes
/// are chunked; nothing is held beyond one record and the chunk being fed; a valid bundle's envelopes, written
/// again, give the same bytes; a written bundle reads back exactly; a bundle with one byte changed is refused.
enum BundleFuzz {
    struct Outcome: Equatable {
        var envelopes: [[UInt8]]
        var error: BundleError?
    }

    static func run(_ input: FuzzInput) {
        var input = input
        let mode = input.u8() % 2
        let chunking = input.u8()
        switch mode {
        case 0:
            let bytes = input.rest()
            let whole = read(bytes, chunk: { _ in bytes.count })
            let chunked = read(bytes, chunk: chunker(chunking))
            fuzzCheck(whole == chunked, "chunking changed the bundle's reading: \(whole.error.map(String.init(describing:)) ?? "ok") vs \(chunked.error.map(String.init(describing:)) ?? "ok")")
            if whole.error == nil {
                fuzzCheck(write(whole.envelopes) == bytes, "a valid bundle is not what writing its envelopes gives")
            }
        default:
            let flip = Int(input.u16())
            let count = Int(input.u8() % 16)
            var envelopes: [[UInt8]] = []
            for _ in 0..<count where !input.isEmpty {
                let length = input.int(in: 1...min(EnvelopeBundle.maxRecordBytes, 4_096))
                envelopes.append(input.exactly(length))
            }
            let bytes = write(envelopes)
            let back = read(bytes, chunk: chunker(chunking))
            fuzzCheck(back == Outcome(envelopes: envelopes, error: nil), "a written bundle does not read back")
            var damaged = bytes
            let at = flip % damaged.count
            damaged[at] ^= 0x01 | UInt8(truncatingIfNeeded: flip >> 8)
            let bad = read(damaged, chunk: chunker(chunking))
            fuzzCheck(bad.error != nil, "a bundle with byte \(at) of \(damaged.count) changed was accepted")
        }
    }

    /// Chunk sizes from one byte: 1…255 bytes at a time, or a varying size.
    static func chunker(_ b: UInt8) -> (Int) -> Int {
        { i in b == 0 ? 1 + (i * 7919) % 97 : Int(b) }
    }

    static func read(_ bytes: [UInt8], chunk: (Int) -> Int) -> Outcome {
        var reader = EnvelopeBundle.Reader()
        var out: [[UInt8]] = []
        var i = 0
        var n = 0
        do throws(BundleError) {
            while i < bytes.count {
                let end = min(bytes.count, i + max(1, chunk(n)))
                let got = try reader.feed(bytes[i..<end])
                for e in got {
                    fuzzCheck(!e.isEmpty && e.count <= EnvelopeBundle.maxRecordBytes, "record of \(e.count) bytes")
                }
                out += got
                i = end
                n += 1
            }
            try reader.finish()
            fuzzCheck(reader.count == UInt64(out.count), "the reader's count differs from the records it returned")
            return Outcome(envelopes: out, error: nil)
        } catch {
            // Envelopes returned before an error are not imported (the caller reads a bundle whole to check it
            // first): only the error is compared.
            return Outcome(envelopes: [], error: error)
        }
    }

    static func write(_ envelopes: [[UInt8]]) -> [UInt8] {
        var w = EnvelopeBundle.Writer()
        var out = w.start()
        for e in envelopes { out += w.append(e) }
        out += w.finish()
        fuzzCheck(out.count == w.bytes, "the writer's byte count is wrong")
        return out
    }
}
