/// A conservative estimate of how many guesses a passphrase costs an attacker who runs a dictionary and the usual
/// mangling rules against it offline (a captured datagram of a private mesh is enough to test guesses).
///
/// Hand-written (the well-kept estimator, zxcvbn-c, is packaged by Debian only as a shared library and a non-PIC
/// static one, which the static release binaries cannot link; see docs/decisions.md), and deliberately pessimistic,
/// in the spirit of zxcvbn: a run of letters is priced as one word from a 131,072-word dictionary (17 bits; a
/// capital adds a bit), however random it looks; a run of digits or symbols by its characters, except that
/// repeats and ascending or descending steps cost one bit each; one separator between tokens costs one bit; a token
/// seen before in the passphrase costs one bit. Four random dictionary words with spaces score 71 bits;
/// `hunter2hunter2` 22; `Tr0ub4dor&3` 48.
public enum PassphraseStrength {
    /// The least estimate accepted for a secret that protects a key offline (a private mesh, a key file).
    public static let minimumBits = 50.0

    /// The estimated guessing cost of `passphrase`, in bits.
    public static func bits(_ passphrase: String) -> Double {
        var total = 0.0
        var seen: Set<String> = []
        for token in tokens(passphrase) {
            let text = String(token.characters)
            guard seen.insert(text.lowercased()).inserted else {
                total += 1
                continue
            }
            switch token.kind {
            case .letters:
                let capitals = token.characters.contains { $0.isUppercase } ? 1.0 : 0.0
                total += min(Double(token.characters.count) * 4.7, 17) + capitals
            case .separator:
                total += 1
            case .digits, .symbols:
                let perCharacter = token.kind == .digits ? 3.32 : 5.0
                var previous: Character? = nil
                for c in token.characters {
                    if let p = previous, Self.isStep(from: p, to: c) {
                        total += 1
                    } else {
                        total += perCharacter
                    }
                    previous = c
                }
            }
        }
        return total
    }

    /// Why `passphrase` is too weak to protect a key offline, in words a person can act on; nil when it is strong
    /// enough.
    public static func weakness(_ passphrase: String) -> String? {
        let estimate = bits(passphrase)
        guard estimate < minimumBits else { return nil }
        return "is too easy to guess offline (about \(Int(estimate)) bits; at least \(Int(minimumBits)) needed): "
            + "use four or more unrelated words, e.g. 'plum tractor eleven violet', or a long random string"
    }

    private enum Kind { case letters, digits, symbols, separator }
    private struct Token {
        var kind: Kind
        var characters: [Character]
    }

    private static func kind(_ c: Character) -> Kind {
        if c.isLetter { return .letters }
        if c.isNumber { return .digits }
        if c == " " || c == "-" || c == "_" || c == "." { return .separator }
        return .symbols
    }

    private static func tokens(_ s: String) -> [Token] {
        var out: [Token] = []
        for c in s {
            let k = kind(c)
            // A separator is one token per character: "a  b" costs two.
            if k != .separator, var last = out.last, last.kind == k {
                last.characters.append(c)
                out[out.count - 1] = last
            } else {
                out.append(Token(kind: k, characters: [c]))
            }
        }
        return out
    }

    private static func isStep(from a: Character, to b: Character) -> Bool {
        guard let x = a.unicodeScalars.first?.value, let y = b.unicodeScalars.first?.value else { return false }
        return x == y || x + 1 == y || y + 1 == x
    }
}
