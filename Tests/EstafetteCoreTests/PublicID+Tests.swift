import Testing

@testable import EstafetteCore

@Suite("PublicID")
struct PublicIDTests {
    static let id = PublicID(key: Fixture.alice.publicKey)

    /// The text an ID for `bytes` would have, built by hand so that invalid keys can be written too.
    static func text(for bytes: [UInt8]) -> String {
        PublicID.prefix + Base32.encode(bytes + PublicID.checksum(bytes))
    }

    static func reason(_ text: String) -> IDError.Reason? {
        do {
            _ = try PublicID(parsing: text)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("text round trips, for many keys")
    func roundTrip() throws {
        for n: UInt64 in 0..<40 {
            let id = PublicID(key: SigningKeyPair.deterministic(n).publicKey)
            let text = id.description
            #expect(text.count == 61)
            #expect(text.hasPrefix("es1"))
            #expect(text.dropFirst(3).allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
            #expect(try PublicID(parsing: text) == id)
        }
    }

    @Test("parsing ignores case, dashes, spaces and line breaks")
    func lenientParsing() throws {
        let text = Self.id.description
        var grouped = ""
        for (i, c) in text.enumerated() {
            if i > 0, i % 4 == 0 { grouped += i % 8 == 0 ? " " : "-" }
            grouped.append(c)
        }
        for variant in [
            text.uppercased(), grouped, grouped.uppercased(), " \(text) ", "ES1-" + text.dropFirst(3),
            String(text.prefix(30)) + "\n\t" + text.dropFirst(30),
        ] {
            #expect(try PublicID(parsing: variant) == Self.id, "\(variant)")
        }
    }

    @Test("changing any one character is refused")
    func mistypedCharacter() {
        let text = Array(Self.id.description)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        for position in 3..<text.count {
            for replacement in alphabet where replacement != text[position] {
                var typo = text
                typo[position] = replacement
                let reason = Self.reason(String(typo))
                if position < text.count - 1 {
                    #expect(reason == .badChecksum, "position \(position) → \(replacement)")
                } else {
                    // The last character also carries two zero padding bits.
                    #expect(reason == .badChecksum || reason == .badCharacters, "last → \(replacement)")
                }
            }
        }
    }

    @Test("swapping any two adjacent, different characters is refused")
    func swappedCharacters() {
        let text = Array(Self.id.description)
        var swaps = 0
        for i in 0..<(text.count - 1) where text[i] != text[i + 1] {
            var typo = text
            typo.swapAt(i, i + 1)
            let reason = Self.reason(String(typo))
            #expect(reason != nil, "swap at \(i)")
            if i >= 3, i + 1 < text.count - 1 {
                #expect(reason == .badChecksum, "swap at \(i)")
            }
            swaps += 1
        }
        #expect(swaps > 40)
    }

    @Test("a wrong prefix is refused")
    func wrongPrefix() {
        let body = Self.id.description.dropFirst(3)
        for prefix in ["", "es2", "es", "xs1", "e1s", "bc1"] {
            #expect(Self.reason(prefix + body) == .missingPrefix, "\(prefix)")
        }
        #expect(Self.reason("") == .missingPrefix)
    }

    @Test("a wrong length is refused")
    func wrongLength() {
        let text = Self.id.description
        for variant in [String(text.dropLast()), text + "a", text + text.dropFirst(3), "es1", String(text.dropLast(5))]
        {
            #expect(Self.reason(variant) == .wrongLength, "\(variant.count) characters")
        }
    }

    @Test("characters outside the base32 alphabet are refused")
    func badCharacters() {
        let text = Array(Self.id.description)
        for bad in ["0", "1", "8", "9", "!", "é", "_"] {
            var typo = text
            typo[10] = Character(bad)
            #expect(Self.reason(String(typo)) == .badCharacters, "\(bad)")
        }
    }

    @Test("an ID with a valid checksum over a small-order key is refused", arguments: smallOrderPoints.map(\.0))
    func smallOrderKey(name: String) {
        let bytes = smallOrderPoints.first { $0.0 == name }!.1
        let text = Self.text(for: bytes)
        #expect(text.count == 61)
        #expect(Self.reason(text) == .invalidKey)
    }

    @Test("the hand-built text matches description for a real key")
    func handBuiltMatches() {
        #expect(Self.text(for: Fixture.alice.publicKey.bytes) == Self.id.description)
    }

    @Test("the fingerprint is stable for one key and differs between keys")
    func fingerprint() throws {
        let f = Self.id.fingerprint
        #expect(f == PublicID(key: SigningKeyPair.deterministic(1).publicKey).fingerprint)
        #expect(f == (try PublicID(parsing: Self.id.description.uppercased())).fingerprint)
        let groups = f.split(separator: " ")
        #expect(groups.count == 8)
        #expect(groups.allSatisfy { $0.count == 4 && $0.allSatisfy(\.isHexDigit) })
        let all = Set((0..<30).map { PublicID(key: SigningKeyPair.deterministic($0).publicKey).fingerprint })
        #expect(all.count == 30)
    }

    @Test("base32 matches RFC 4648 test vectors (lower case, no padding)")
    func base32Vectors() {
        let vectors = [
            ("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"), ("foobar", "mzxw6ytboi"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base32.decode("mz") == nil)  // non-zero padding bits
    }
}
