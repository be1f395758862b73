/// A running hash over what happened in a run: for each event its virtual time, kind, node, and a small integer
/// (datagram size and sender, timer number, envelope index). Two runs with the same seed give the same hash;
/// ciphertext bytes are never hashed, because libsodium draws a fresh random nonce for every datagram.
public struct TraceHash: Sendable, Hashable, CustomStringConvertible {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    enum Kind: UInt64 {
        case boot = 1
        case deliver = 2
        case timer = 3
        case inject = 4
        case fault = 5
        case expire = 6
        case store = 7
        case relay = 8
    }

    mutating func add(time: Int64, kind: Kind, node: Int, aux: UInt64) {
        mix(UInt64(bitPattern: time))
        mix(kind.rawValue << 56 ^ UInt64(truncatingIfNeeded: node) << 32 ^ aux)
    }

    private mutating func mix(_ word: UInt64) {
        var z = (value ^ word) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        value = z ^ (z >> 31)
    }

    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
