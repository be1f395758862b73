/// A one-line invite: an ID, the display name its owner chose, optional relay hints, and a checksum over all of it
/// (docs/protocol.md, "Invites").
///
/// ```
/// estafette:invite?v=1&id=<es1…>&name=<pct>[&relay=<pct>]…&c=<8 hex>
/// c = hex(BLAKE2b-256("estafette-invite" ‖ everything before "&c=")[0..<4])
/// ```
/// `<pct>` is UTF-8 with every byte outside `A-Z a-z 0-9 - . _ ~` written `%XX` (upper-case hex). The ID keeps
/// its own checksum; the invite's covers the name and the hints as well, so a character changed anywhere (a bad
/// copy, a mis-scan) is refused instead of adding a wrong name or relay.
public struct Invite: Equatable, Sendable {
    public static let scheme = "estafette:invite?"
    public static let maxNameBytes = 64 * 4
    public static let maxRelays = 4
    public static let maxRelayBytes = 200
    /// Longest invite text parsed; anything longer is refused before any work.
    public static let maxTextBytes = 2_048

    public let id: PublicID
    public let name: String
    public let relays: [String]

    public struct Failure: Error, Equatable, CustomStringConvertible, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Refuses a name or a hint the format cannot carry (empty or too long name, control characters, too many or
    /// too long hints, spaces in a hint).
    public init(id: PublicID, name: String, relays: [String] = []) throws(Failure) {
        guard !name.isEmpty, name.utf8.count <= Self.maxNameBytes else {
            throw Failure("an invite's name has 1 to 64 characters")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw Failure("an invite's name cannot hold control characters")
        }
        guard relays.count <= Self.maxRelays else { throw Failure("an invite holds at most \(Self.maxRelays) relays") }
        for r in relays {
            guard !r.isEmpty, r.utf8.count <= Self.maxRelayBytes, r.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else {
                throw Failure("a relay hint is 1 to \(Self.maxRelayBytes) printable ASCII characters without spaces")
            }
        }
        self.id = id
        self.name = name
        self.relays = relays
    }

    public var description: String {
        var body = Self.scheme + "v=1&id=" + id.description + "&name=" + Self.percentEncoded(name)
        for r in relays { body += "&relay=" + Self.percentEncoded(r) }
        return body + "&c=" + Self.checksum(body)
    }

    /// Parses an invite, refusing anything that is not exactly the format with a good checksum.
    public init(parsing raw: String) throws(Failure) {
        let blank: Set<Character> = [" ", "\t", "\r", "\n", "\r\n"]
        var text = Substring(raw)
        while let f = text.first, blank.contains(f) { text = text.dropFirst() }
        while let l = text.last, blank.contains(l) { text = text.dropLast() }
        guard text.utf8.count <= Self.maxTextBytes else { throw Failure("this invite is too long to be one") }
        guard text.hasPrefix(Self.scheme) else {
            throw Failure("this is not an Estafette invite (invites start with '\(Self.scheme)')")
        }
        let bytes = Array(text.utf8)
        let marker = Array("&c=".utf8)
        guard let cut = stride(from: bytes.count - marker.count, through: 0, by: -1).first(where: {
            Array(bytes[$0..<($0 + marker.count)]) == marker
        }) else {
            throw Failure("this invite has no checksum: it was cut short or damaged; ask for it again")
        }
        let body = String(decoding: bytes[..<cut], as: UTF8.self)
        guard String(decoding: bytes[(cut + marker.count)...], as: UTF8.self).lowercased() == Self.checksum(body) else {
            throw Failure("this invite is damaged (its checksum does not match): copy or scan it again")
        }
        var version: String?
        var idText: String?
        var name: String?
        var relays: [String] = []
        for field in body.dropFirst(Self.scheme.count).split(separator: "&", omittingEmptySubsequences: false) {
            guard let eq = field.firstIndex(of: "=") else { throw Failure("this invite is malformed: '\(field.prefix(40))'") }
            let key = field[..<eq]
            guard let value = Self.percentDecoded(field[field.index(after: eq)...]) else {
                throw Failure("this invite is malformed: a bad %-escape in '\(key)'")
            }
            switch key {
            case "v" where version == nil: version = value
            case "id" where idText == nil: idText = value
            case "name" where name == nil: name = value
            case "relay": relays.append(value)
            default: throw Failure("this invite is malformed: unexpected field '\(key.prefix(20))'")
            }
        }
        guard version == "1" else { throw Failure("this invite is of another version (\(version ?? "none")); update Estafette") }
        guard let idText, let name else { throw Failure("this invite is malformed: it lacks an ID or a name") }
        let id: PublicID
        do {
            id = try PublicID(parsing: idText)
        } catch {
            throw Failure("this invite's ID is damaged: \(error)")
        }
        try self.init(id: id, name: name, relays: relays)
    }

    static func checksum(_ body: String) -> String {
        Sodium.blake2b(Array("estafette-invite".utf8) + Array(body.utf8), length: 32).prefix(4).map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E
            || b == 0x5F || b == 0x7E
    }

    static func percentEncoded(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if isUnreserved(b) {
                out.append(b)
            } else {
                out += [0x25, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func percentDecoded(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            if b == 0x25 {
                guard bytes.count >= 2, let hi = hexValue(bytes[bytes.startIndex]),
                    let lo = hexValue(bytes[bytes.startIndex + 1])
                else { return nil }
                out.append(hi << 4 | lo)
                bytes = bytes.dropFirst(2)
            } else {
                guard isUnreserved(b) else { return nil }
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
