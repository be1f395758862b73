/// Finds a table header that toml++ (through TOMLKit) cannot be given: in toml++ 3.x, a header whose first key
/// character is neither a bare-key character nor a quote (`[=]`, `[.lan]`, `[é]`, `[` at the end of a line)
/// fails an assertion in `parser::parse_key()`, which aborts the daemon instead of reporting a syntax error
/// (found by the `config` fuzz target; see docs/fuzzing.md). `NodeConfig.load` reports such a header itself.
///
/// The scan follows toml++'s document grammar only as far as it matters: statements start after a line break
/// at the top level, outside strings and multi-line arrays; a header is a statement starting with `[`. It
/// stops (returns nil) at anything toml++ rejects before reaching a later header, so it never reports a
/// header that toml++ would not parse.
enum TOMLHeaderCheck {
    /// The 1-based line of the first such header, or nil.
    static func firstUnparsableHeader(in text: String) -> Int? {
        var s = Scanner(Array(text.utf8.prefix { $0 != 0 }))  // toml++ gets a C string: it stops at a NUL
        if s.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { s.i = 3 }
        while let c = s.peek {
            switch c {
            case .space, .tab, .newline:
                s.advance()
            case .cr where s.peek(1) == .newline:
                s.advance()
            case .hash:
                s.skipComment()
            case .openBracket:
                s.advance()
                let hadSpace = s.skipSpaces()
                if s.peek == .openBracket, !hadSpace {
                    s.advance()
                    _ = s.skipSpaces()
                }
                guard let k = s.peek, k != .closeBracket else { return nil }
                guard isBareKey(k) || k == .quote || k == .apostrophe else { return s.line }
                guard s.skipValue() else { return nil }
            case _ where isBareKey(c) || c == .quote || c == .apostrophe:
                guard s.skipValue() else { return nil }
            default:
                return nil
            }
        }
        return nil
    }

    static func isBareKey(_ c: UInt8) -> Bool {
        (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) || c == 0x2D || c == 0x5F
    }

    struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var line = 1

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
        func peek(_ ahead: Int) -> UInt8? { i + ahead < bytes.count ? bytes[i + ahead] : nil }
        func at(_ seq: [UInt8]) -> Bool { bytes[i...].starts(with: seq) }

        mutating func advance(_ n: Int = 1) {
            for _ in 0..<n where i < bytes.count {
                if bytes[i] == .newline { line += 1 }
                i += 1
            }
        }

        mutating func skipSpaces() -> Bool {
            let start = i
            while peek == .space || peek == .tab { advance() }
            return i > start
        }

        mutating func skipComment() {
            while let c = peek, c != .newline { advance() }
        }

        /// The rest of a statement (a header, or a key, `=` and a value): strings, comments and brackets, up to
        /// a line break outside brackets. False when a string is left open (toml++ stops there).
        mutating func skipValue() -> Bool {
            var depth = 0
            while let c = peek {
                switch c {
                case .newline where depth <= 0:
                    return true
                case .hash:
                    skipComment()
                case .openBracket, .openBrace:
                    depth += 1
                    advance()
                case .closeBracket, .closeBrace:
                    depth -= 1
                    advance()
                case .quote, .apostrophe:
                    guard skipString(c) else { return false }
                default:
                    advance()
                }
            }
            return true
        }

        /// A basic or literal string, single- or multi-line; false when it does not close.
        mutating func skipString(_ q: UInt8) -> Bool {
            let multi = at([q, q, q])
            advance(multi ? 3 : 1)
            while let c = peek {
                if c == .backslash, q == .quote {
                    advance(2)
                } else if c == q, !multi {
                    advance()
                    return true
                } else if c == q, at([q, q, q]) {
                    advance(3)
                    // Up to two more quotes belong to the content.
                    for _ in 0..<2 where peek == q { advance() }
                    return true
                } else if c == .newline, !multi {
                    return false
                } else {
                    advance()
                }
            }
            return false
        }
    }
}

extension UInt8 {
    fileprivate static let tab: UInt8 = 0x09
    fileprivate static let newline: UInt8 = 0x0A
    fileprivate static let cr: UInt8 = 0x0D
    fileprivate static let space: UInt8 = 0x20
    fileprivate static let quote: UInt8 = 0x22
    fileprivate static let hash: UInt8 = 0x23
    fileprivate static let apostrophe: UInt8 = 0x27
    fileprivate static let openBracket: UInt8 = 0x5B
    fileprivate static let backslash: UInt8 = 0x5C
    fileprivate static let closeBracket: UInt8 = 0x5D
    fileprivate static let openBrace: UInt8 = 0x7B
    fileprivate static let closeBrace: UInt8 = 0x7D
}
