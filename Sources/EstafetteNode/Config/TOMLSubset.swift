/// Checks a config file against the part of TOML that estafette.toml uses, before toml++ (through TOMLKit)
/// parses it: comments, `[table]` and `[[array]]` headers, bare, quoted and dotted keys, and values that are
/// strings (all four kinds), integers (decimal, hex, octal, binary), booleans, arrays and inline tables.
///
/// Why: toml++ 3.4 checks some of its own parsing steps with assertions that malformed text can reach, and an
/// assertion aborts the daemon instead of reporting a syntax error. The `config` fuzz target found two: a
/// header whose key starts with another character (`[=]`, `[.lan]`, `[é]`) and a date-time with a non-digit
/// after the `T` (`1979-05-27T{7:32:00Z`). So toml++ is given only text whose structure this check has
/// followed to the end, and no dates, times or floats (no setting takes one). What it accepts, toml++ parses
/// the same way; what toml++ still refuses within it (a bad escape, a duplicate key, an integer too large)
/// it reports itself. See docs/decisions.md, "Daemon".
enum TOMLSubset {
    struct Problem: Error, Equatable {
        let line: Int
        let reason: String
    }

    /// The first problem, or nil when toml++ may parse the text.
    static func check(_ text: String) -> Problem? {
        // toml++ receives a C string and would stop at a NUL, reading less than the file holds: refuse it.
        let bytes = Array(text.utf8)
        if let nul = bytes.firstIndex(of: 0) {
            let line = 1 + bytes[..<nul].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            return Problem(line: line, reason: "a NUL byte (0x00) is not allowed in a config file")
        }
        var s = Scanner(bytes: bytes)
        if s.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { s.i = 3 }
        do {
            try s.document()
            return nil
        } catch {
            return error
        }
    }

    static let maxDepth = 32

    struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var line = 1

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
        func peek(_ ahead: Int) -> UInt8? { i + ahead < bytes.count ? bytes[i + ahead] : nil }
        func at(_ s: String) -> Bool { bytes[i...].starts(with: s.utf8) }

        mutating func advance(_ n: Int = 1) {
            for _ in 0..<n where i < bytes.count {
                if bytes[i] == 0x0A { line += 1 }
                i += 1
            }
        }

        func fail(_ reason: String) -> Problem { Problem(line: line, reason: reason) }

        mutating func document() throws(Problem) {
            while let c = peek {
                if skipSpaces() || lineBreak() { continue }
                if c == UInt8(ascii: "#") {
                    skipComment()
                } else if c == UInt8(ascii: "[") {
                    try header()
                } else if isBareKey(c) || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    try keyValue(depth: 0)
                } else {
                    throw fail("expected a key, a [section] or a comment")
                }
                if peek == nil { return }
                _ = skipSpaces()
                if peek == UInt8(ascii: "#") { skipComment() }
                guard peek == nil || lineBreak() else { throw fail("expected the end of the line") }
            }
        }

        mutating func header() throws(Problem) {
            advance()  // [
            let isArray = peek == UInt8(ascii: "[")
            if isArray { advance() }
            _ = skipSpaces()
            try key()
            _ = skipSpaces()
            for _ in 0..<(isArray ? 2 : 1) {
                guard peek == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
                advance()
            }
        }

        mutating func keyValue(depth: Int) throws(Problem) {
            try key()
            _ = skipSpaces()
            guard peek == UInt8(ascii: "=") else { throw fail("expected '=' after the key") }
            advance()
            _ = skipSpaces()
            try value(depth: depth)
        }

        /// `a`, `"a"`, `'a'`, `a.b."c"`, with spaces or tabs around the dots.
        mutating func key() throws(Problem) {
            while true {
                guard let c = peek else { throw fail("expected a key") }
                if isBareKey(c) {
                    while let b = peek, isBareKey(b) { advance() }
                } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    guard !at(c == UInt8(ascii: "\"") ? "\"\"\"" : "'''") else {
                        throw fail("a key cannot be a multi-line string")
                    }
                    // No setting has an empty name, and an error about one could name no line (found by the
                    // `config` fuzz target: `"" = ...` with the error put on a line inside a multi-line string).
                    guard peek(1) != c else { throw fail("a key cannot be empty") }
                    try string()
                } else {
                    throw fail("expected a key (letters, digits, '-', '_', or quoted)")
                }
                _ = skipSpaces()
                guard peek == UInt8(ascii: ".") else { return }
                advance()
                _ = skipSpaces()
            }
        }

        mutating func value(depth: Int) throws(Problem) {
            guard depth < maxDepth else { throw fail("values nested too deeply") }
            guard let c = peek else { throw fail("expected a value") }
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                try string()
            case UInt8(ascii: "["):
                try array(depth: depth + 1)
            case UInt8(ascii: "{"):
                try inlineTable(depth: depth + 1)
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                let word = c == UInt8(ascii: "t") ? "true" : "false"
                guard at(word) else { throw unsupportedValue }
                advance(word.utf8.count)
            default:
                try integer()
            }
            // A value ends at a space, a separator, a comment or the end of the line.
            if let t = peek, !" \t\r\n,]}#".utf8.contains(t) { throw unsupportedValue }
        }

        var unsupportedValue: Problem {
            fail(
                "expected a string, an integer, true, false, an array or an inline table (no setting takes a date or a float)"
            )
        }

        /// `[+-]?` decimal without leading zeros, or `0x`, `0o`, `0b`; digits may be separated by single `_`.
        mutating func integer() throws(Problem) {
            var digit: (UInt8) -> Bool = { (0x30...0x39).contains($0) }
            if at("0x") || at("0o") || at("0b") {
                let base = bytes[i + 1]
                digit =
                    base == UInt8(ascii: "x")
                    ? { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }
                    : base == UInt8(ascii: "o") ? { (0x30...0x37).contains($0) } : { $0 == 0x30 || $0 == 0x31 }
                advance(2)
            } else {
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { advance() }
                if peek == UInt8(ascii: "0"), let next = peek(1), digit(next) || next == UInt8(ascii: "_") {
                    throw fail("an integer cannot start with 0")
                }
            }
            guard let first = peek, digit(first) else { throw unsupportedValue }
            advance()
            while let c = peek {
                if digit(c) {
                    advance()
                } else if c == UInt8(ascii: "_"), let next = peek(1), digit(next) {
                    advance(2)
                } else {
                    return
                }
            }
        }

        /// `[ value, value, ]`, over several lines, with comments.
        mutating func array(depth: Int) throws(Problem) {
            advance()  // [
            while true {
                skipBlank()
                if peek == UInt8(ascii: "]") { break }
                try value(depth: depth)
                skipBlank()
                if peek == UInt8(ascii: ",") {
                    advance()
                } else if peek != UInt8(ascii: "]") {
                    throw fail("expected ',' or ']' in the array")
                }
            }
            advance()  // ]
        }

        /// `{ key = value, key = value }` on one line.
        mutating func inlineTable(depth: Int) throws(Problem) {
            advance()  // {
            _ = skipSpaces()
            if peek == UInt8(ascii: "}") {
                advance()
                return
            }
            while true {
                try keyValue(depth: depth)
                _ = skipSpaces()
                if peek == UInt8(ascii: "}") { break }
                guard peek == UInt8(ascii: ",") else { throw fail("expected ',' or '}' in the inline table") }
                advance()
                _ = skipSpaces()
            }
            advance()  // }
        }

        /// A basic or literal string, single- or multi-line; escapes are skipped, not checked (toml++ does).
        mutating func string() throws(Problem) {
            let q = peek!
            let delimiter = String(UnicodeScalar(q))
            let multi = at(String(repeating: delimiter, count: 3))
            advance(multi ? 3 : 1)
            while let c = peek {
                if c == UInt8(ascii: "\\"), q == UInt8(ascii: "\"") {
                    advance(2)
                } else if c == q, !multi {
                    advance()
                    return
                } else if c == q, at(String(repeating: delimiter, count: 3)) {
                    advance(3)
                    for _ in 0..<2 where peek == q { advance() }  // quotes just before the end belong to the text
                    return
                } else if (c == 0x0A || c == 0x0D) && !multi {
                    break
                } else {
                    advance()
                }
            }
            throw fail("unterminated string")
        }

        mutating func skipSpaces() -> Bool {
            let start = i
            while peek == 0x20 || peek == 0x09 { advance() }
            return i > start
        }

        /// `\n` or `\r\n`.
        mutating func lineBreak() -> Bool {
            if peek == 0x0A {
                advance()
                return true
            }
            if peek == 0x0D, peek(1) == 0x0A {
                advance(2)
                return true
            }
            return false
        }

        mutating func skipComment() {
            while let c = peek, c != 0x0A, !(c == 0x0D && peek(1) == 0x0A) { advance() }
        }

        /// Spaces, line breaks and comments (inside an array).
        mutating func skipBlank() {
            while true {
                if skipSpaces() || lineBreak() { continue }
                if peek == UInt8(ascii: "#") {
                    skipComment()
                    continue
                }
                return
            }
        }

        func isBareKey(_ c: UInt8) -> Bool {
            (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) || c == 0x2D
                || c == 0x5F
        }
    }
}
