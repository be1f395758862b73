import EstafetteCore

/// Packets of any type built from a fuzzer's fields: what a hostile peer can seal with the public mesh key.
public enum PacketFields {
    /// A packet of any type from fields (types outside 1…7 give nil); lengths are kept to what a datagram
    /// could carry, and sometimes beyond.
    public static func build(_ input: inout FuzzInput) -> Packet? {
        func digest(_ input: inout FuzzInput) -> EnvelopeID {
            EnvelopeID(bytes: input.exactly(32))
        }
        func prefixes(_ input: inout FuzzInput) -> [UInt64] {
            (0..<input.int(in: 0...160)).map { _ in input.u64() }
        }
        switch input.u8() % 8 {
        case 1:
            return .beacon(count: input.u32(), digest: digest(&input))
        case 2:
            return .envelope(input.blob(max: 1300))
        case 3:
            return .fragment(stream: input.u64(), offset: input.u32(), total: input.u32(), chunk: input.blob(max: 1300))
        case 4:
            let lo = input.u64()
            let hi = input.u64()
            let count = input.u32()
            let digest = digest(&input)
            return .inventory(lo: lo, hi: hi, count: count, digest: digest, prefixes: prefixes(&input))
        case 5:
            return .want(target: input.u64(), need: input.u16(), prefixes: prefixes(&input))
        case 6:
            let n = input.int(in: 0...40)
            let members = (0..<n).map { _ in input.u64() }
            let coefficients = input.bytes(n)
            guard coefficients.count == n else { return nil }
            return .coded(members: members, coefficients: coefficients, payload: input.blob(max: 1300))
        case 7:
            return .parity(stream: input.u64(), total: input.u32(), index: input.u8(), chunk: input.blob(max: 1300))
        default:
            return nil
        }
    }
}
