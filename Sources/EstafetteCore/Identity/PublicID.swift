/// The textual form of an identity: `es1` + base32(public key ‖ checksum).
///
/// ```
/// "es1" | base32-lower-nopad( pk[32] ‖ BLAKE2b-256("estafette-id" ‖ pk)[0..<4] )   → 3 + 58 characters
/// ```
/// The 32-bit checksum makes a mistyped ID fail to parse instead of addressing nobody. Parsing ignores case,
/// spaces and dashes so an ID read aloud or copied from a print-out works.
public struct PublicID: Hashable, Sendable, CustomStringConvertible {
    public static let prefix = "es1"
    static let checksumBytes = 4

    public let key: SigningPublicKey

    public init(key: SigningPublicKey) {
        self.key = key
    }

    public init(parsing text: String) throws(IDError) {
        let cleaned = text.lowercased().filter { $0 != " " && $0 != "-" && $0 != "\n" && $0 != "\t" }
        guard cleaned.hasPrefix(Self.prefix) else { throw IDError(.missingPrefix, text) }
        let body = cleaned.dropFirst(Self.prefix.count)
        guard body.count == Base32.encodedLength(SigningPublicKey.byteCount + Self.checksumBytes) else {
            throw IDError(.wrongLength, text)
        }
        guard body.utf8.allSatisfy({ Base32.alphabet.contains($0) }) else { throw IDError(.badCharacters, text) }
        // A non-canonical final character is a typo too.
        guard let raw = Base32.decode(String(body)), raw.count == SigningPublicKey.byteCount + Self.checksumBytes
        else { throw IDError(.badChecksum, text) }
        let pk = Array(raw.prefix(SigningPublicKey.byteCount))
        guard Array(raw.suffix(Self.checksumBytes)) == Self.checksum(pk) else { throw IDError(.badChecksum, text) }
        do {
            self.key = try SigningPublicKey(validating: pk)
        } catch {
            throw IDError(.invalidKey, text)
        }
    }

    static func checksum(_ pk: [UInt8]) -> [UInt8] {
        Array(Sodium.blake2b(Array("estafette-id".utf8) + pk, length: 32).prefix(checksumBytes))
    }

    public var description: String {
        Self.prefix + Base32.encode(key.bytes + Self.checksum(key.bytes))
    }

    /// A safety number to compare in person: 8 groups of 4 hex digits from BLAKE2b over the key.
    public var fingerprint: String {
        let h = Sodium.blake2b(Array("estafette-fingerprint".utf8) + key.bytes, length: 16)
        let hex = h.map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        var groups: [Substring] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 4)
            groups.append(hex[i..<j])
            i = j
        }
        return groups.joined(separator: " ")
    }
}

public struct IDError: Error, Hashable, CustomStringConvertible, Sendable {
    public enum Reason: Hashable, Sendable {
        case missingPrefix, wrongLength, badCharacters, badChecksum, invalidKey
    }

    public let reason: Reason
    public let input: String

    init(_ reason: Reason, _ input: String) {
        self.reason = reason
        self.input = input
    }

    public var description: String {
        let shown = input.count > 80 ? String(input.prefix(80)) + "…" : input
        switch reason {
        case .missingPrefix: return "'\(shown)' is not an Estafette ID (IDs start with 'es1')"
        case .wrongLength: return "'\(shown)' is not an Estafette ID: wrong length (an ID has 61 characters)"
        case .badCharacters: return "'\(shown)' is not an Estafette ID: it contains characters outside a-z and 2-7"
        case .badChecksum: return "'\(shown)' has a bad checksum: the ID was probably mistyped"
        case .invalidKey: return "'\(shown)' does not hold a valid public key"
        }
    }
}

/// RFC 4648 base32, lower case, no padding.
enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encodedLength(_ bytes: Int) -> Int { (bytes * 8 + 4) / 5 }

    static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(encodedLength(data.count))
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 {
            out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"): v = UInt32(c - UInt8(ascii: "2") + 26)
            default: return nil
            }
            buffer = (buffer << 5) | v
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        // Leftover bits must be zero (canonical encoding).
        if bits > 0, buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }
}
