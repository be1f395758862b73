/// A safety number for a pair of identities: 60 decimal digits in 12 groups of 5, the same on both sides, to read
/// aloud or compare on two screens (docs/protocol.md, "Safety numbers").
///
/// ```
/// h₀     = BLAKE2b-512("estafette-safety-number-v1" ‖ pk)
/// hᵢ₊₁   = BLAKE2b-512(hᵢ ‖ pk)                                 for i < 5200
/// half   = for each of the 6 chunks c of 5 bytes of h₅₂₀₀[0..<30]: decimal(uint40-big-endian(c) mod 100000), 5 digits
/// number = min(half(a), half(b)) ‖ max(half(a), half(b))      (as strings: both sides sort alike)
/// ```
/// Each half depends on one key only, so a person can also read out "their" 30 digits. The iterations make a
/// search for a second key whose half matches (2^-100 per try) cost 5200 hashes per try.
public enum SafetyNumber {
    public static let iterations = 5200
    static let domain = Array("estafette-safety-number-v1".utf8)

    /// The 30 digits that belong to one key.
    public static func half(_ key: SigningPublicKey) -> String { half(keyBytes: key.bytes) }

    static func half(keyBytes key: [UInt8]) -> String {
        var h = Sodium.blake2b(domain + key, length: 64)
        for _ in 0..<iterations {
            h = Sodium.blake2b(h + key, length: 64)
        }
        var digits = ""
        for chunk in 0..<6 {
            var v: UInt64 = 0
            for b in h[(chunk * 5)..<(chunk * 5 + 5)] { v = v << 8 | UInt64(b) }
            let s = String(v % 100_000)
            digits += String(repeating: "0", count: 5 - s.count) + s
        }
        return digits
    }

    /// The 60 digits of the pair, in 12 groups of 5 separated by spaces; symmetric in its arguments.
    public static func of(_ a: SigningPublicKey, _ b: SigningPublicKey) -> String {
        combine(half(a), half(b))
    }

    static func combine(_ x: String, _ y: String) -> String {
        let digits = x <= y ? x + y : y + x
        var groups: [String] = []
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 5)
            groups.append(String(digits[i..<j]))
            i = j
        }
        return groups.joined(separator: " ")
    }
}
