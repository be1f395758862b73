import EstafetteCore
import FuzzSupport

/// Fuzz target `relay-record`: what a relay link reads from a TCP peer before and after decryption — the
/// frame decoder (`NoiseFrameDecoder`: 2-byte length, then a Noise message) and the record decoder
/// (`RelayRecord(decoding:)`: a transport message's plaintext).
///
/// Input: mode u8, then
/// - mode 0: one record's plaintext;
/// - mode 1: chunking u8, a frame limit u8 (0: the largest, else that many × 256 bytes), then stream bytes fed
///   to a decoder in chunks, every whole frame taken after each chunk (as the shell does).
///
/// Checks: a decoded record encodes to the same plaintext (a close with an unknown reason reads as a protocol
/// error) and decodes again to itself; the frame decoder returns exactly the frames a plain reading of the
/// stream gives, fails where that reading fails (an empty frame, one over the limit), never holds more than its
/// capacity, and stays failed.
enum RelayRecordFuzz {
    static func run(_ input: FuzzInput) {
        var input = input
        switch input.u8() % 2 {
        case 0: record(input.rest())
        default: frames(&input)
        }
    }

    static func record(_ plaintext: [UInt8]) {
        guard let r = try? RelayRecord(decoding: plaintext) else { return }
        let again = r.encoded()
        if case .close = r, plaintext.count == 2, plaintext[1] > 3 {
            fuzzCheck(again == [0x07, 0x01], "a close with an unknown reason is not read as a protocol error")
        } else {
            fuzzCheck(again == plaintext, "record \(plaintext.prefix(8)) does not encode to its plaintext")
        }
        fuzzCheck((try? RelayRecord(decoding: again)) == r, "a record's encoding does not decode to it")
    }

    static func frames(_ input: inout FuzzInput) {
        let chunking = input.u8()
        let limitByte = input.u8()
        let limit = limitByte == 0 ? NoiseFrame.maxMessageLength : Int(limitByte) * 256
        let stream = input.rest()

        // The plain reading: frames until the first bad length or the end.
        var expected: [[UInt8]] = []
        var expectedFailure = false
        var i = 0
        while i + 2 <= stream.count {
            let length = Int(stream[i]) << 8 | Int(stream[i + 1])
            if length == 0 || length > limit {
                expectedFailure = true
                break
            }
            guard i + 2 + length <= stream.count else { break }
            expected.append(Array(stream[(i + 2)..<(i + 2 + length)]))
            i += 2 + length
        }

        var decoder = NoiseFrameDecoder(maximumFrameLength: limit)
        var got: [[UInt8]] = []
        var failed = false
        var at = 0
        var n = 0
        outer: while at < stream.count {
            let size = chunking == 0 ? 1 + (n * 7919) % 4_099 : Int(chunking) * 17
            let end = min(stream.count, at + size)
            do throws(NoiseFrameError) {
                try decoder.receive(stream[at..<end])
                fuzzCheck(decoder.bufferedBytes <= decoder.capacity, "the frame decoder holds over its capacity")
                while let frame = try decoder.nextFrame() { got.append(frame) }
            } catch {
                failed = true
                fuzzCheck((try? decoder.nextFrame()) == nil, "a failed frame decoder returned a frame")
                break outer
            }
            at = end
            n += 1
        }
        fuzzCheck(failed == expectedFailure, "the frame decoder \(failed ? "failed" : "did not fail") on \(stream.prefix(16))")
        fuzzCheck(got == expected, "the frame decoder returned other frames than the stream holds")
    }
}
