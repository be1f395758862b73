import Testing

@testable import EstafetteCore

@Suite("SafetyNumber")
struct SafetyNumberTests {
    static let keys = (0..<6).map { SigningKeyPair.deterministic(UInt64($0)).publicKey }

    @Test("12 groups of 5 digits, the same on both sides")
    func symmetricAndReadable() {
        let (a, b) = (Self.keys[0], Self.keys[1])
        let ab = SafetyNumber.of(a, b)
        #expect(ab == SafetyNumber.of(b, a))
        let groups = ab.split(separator: " ")
        #expect(groups.count == 12)
        #expect(groups.allSatisfy { $0.count == 5 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        // Each side's 30 digits are one half of the number.
        let digits = ab.filter { $0 != " " }
        #expect(Set([String(digits.prefix(30)), String(digits.suffix(30))]) == [SafetyNumber.half(a), SafetyNumber.half(b)])
    }

    @Test("different for every other pair")
    func distinctPairs() {
        var seen: [String: (Int, Int)] = [:]
        for i in Self.keys.indices {
            for j in Self.keys.indices where j > i {
                let n = SafetyNumber.of(Self.keys[i], Self.keys[j])
                #expect(n == SafetyNumber.of(Self.keys[j], Self.keys[i]))
                #expect(seen[n] == nil, "pairs \(seen[n].map { "\($0)" } ?? "") and \((i, j)) share a number")
                seen[n] = (i, j)
            }
        }
        #expect(seen.count == 15)
    }

    @Test("known answers, computed independently (Python's hashlib.blake2b), so the derivation cannot drift")
    func knownAnswer() {
        let a = SafetyNumber.half(keyBytes: [UInt8](repeating: 1, count: 32))
        let b = SafetyNumber.half(keyBytes: [UInt8](repeating: 2, count: 32))
        #expect(a == "648793123501439200018519821809")
        #expect(b == "005430395142949136153603857356")
        #expect(SafetyNumber.combine(a, b) == "00543 03951 42949 13615 36038 57356 64879 31235 01439 20001 85198 21809")
        #expect(SafetyNumber.combine(b, a) == SafetyNumber.combine(a, b))
    }
}
