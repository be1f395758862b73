/// JSON text ⇄ `JSONValue` without Foundation's coders, for the API's hot path (one request line in, one
/// response line out, per message sent or received).
///
/// Parsing follows RFC 8259 strictly: one value with optional white space around it; strings must be valid UTF-8
/// with valid escapes (surrogate pairs joined, lone surrogates refused); numbers in JSON's grammar. An integer
/// written without fraction or exponent that fits `Int64` becomes `.int`; every other finite number `.number`
/// with its text, so that a JSON-RPC id comes back exactly as sent. Nesting deeper than `maxDepth` is refused, so hostile input cannot exhaust the
/// stack. For a duplicate key in an object, the last value wins.
///
/// Writing produces compact JSON with object keys sorted and `/` left unescaped, like `JSONEncoder` with
/// `[.sortedKeys, .withoutEscapingSlashes]`; control characters, `"` and `\` are escaped.
public enum JSONText {
    public static let maxDepth = 64

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// Byte offset in the input where parsing failed.
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// Parses one JSON value from UTF-8 bytes.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ParseError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf throws(ParseError) in
            var p = Parser(buf)
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buf.count else { throw p.fail("trailing data after the value") }
            return v
        }
    }

    /// Compact JSON text of `value`, keys sorted.
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(value, to: &out)
        return out
    }

    /// Appends the compact JSON text of `value` to `out`.
    public static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .int(let i): out += String(i).utf8
        case .double(let d):
            // Integral values print without a fraction, as JSONEncoder does; JSON has no NaN or infinity.
            if !d.isFinite {
                out += "null".utf8
            } else if d == d.rounded(), abs(d) < 1e15 {
                out += String(Int64(d)).utf8
            } else {
                out += d.description.utf8
            }
        case .number(let text): out += text.utf8  // JSON number text, checked when parsed
        case .string(let s): writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(v, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (k, key) in o.keys.sorted().enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(o[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

private struct Parser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    func fail(_ reason: String) -> JSONText.ParseError { JSONText.ParseError(offset: i, reason: reason) }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func literal(_ word: String, _ v: JSONValue) throws(JSONText.ParseError) -> JSONValue {
        for c in word.utf8 {
            guard i < b.count, b[i] == c else { throw fail("expected \(word)") }
            i += 1
        }
        return v
    }

    mutating func value(depth: Int) throws(JSONText.ParseError) -> JSONValue {
        guard depth <= JSONText.maxDepth else { throw fail("nested deeper than \(JSONText.maxDepth)") }
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func object(depth: Int) throws(JSONText.ParseError) -> JSONValue {
        i += 1
        var o: [String: JSONValue] = [:]
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
            return .object(o)
        }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            o[key] = try value(depth: depth + 1)
            skipSpace()
            guard i < b.count else { throw fail("unterminated object") }
            if b[i] == UInt8(ascii: ",") {
                i += 1
            } else if b[i] == UInt8(ascii: "}") {
                i += 1
                return .object(o)
            } else {
                throw fail("expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONText.ParseError) -> JSONValue {
        i += 1
        var a: [JSONValue] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1
            return .array(a)
        }
        while true {
            skipSpace()
            a.append(try value(depth: depth + 1))
            skipSpace()
            guard i < b.count else { throw fail("unterminated array") }
            if b[i] == UInt8(ascii: ",") {
                i += 1
            } else if b[i] == UInt8(ascii: "]") {
                i += 1
                return .array(a)
            } else {
                throw fail("expected ',' or ']'")
            }
        }
    }

    mutating func hex4() throws(JSONText.ParseError) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    mutating func string() throws(JSONText.ParseError) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes, so the bytes are the string (validated as UTF-8 below).
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") {
            guard b[i] >= 0x20 else { throw fail("control character in a string") }
            i += 1
        }
        guard i < b.count else { throw fail("unterminated string") }
        var bytes = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
        while b[i] == UInt8(ascii: "\\") {
            i += 1
            guard i < b.count else { throw fail("unterminated escape") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone high surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("bad low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("lone low surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
                bytes += String(Character(u)).utf8
            default: throw fail("unknown escape")
            }
            while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") {
                guard b[i] >= 0x20 else { throw fail("control character in a string") }
                bytes.append(b[i])
                i += 1
            }
            guard i < b.count else { throw fail("unterminated string") }
        }
        i += 1  // closing quote
        guard let s = String(validating: bytes, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return s
    }

    mutating func number() throws(JSONText.ParseError) -> JSONValue {
        let start = i
        if b[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ p: inout Parser) -> Int {
            let s = p.i
            while p.i < p.b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.b[p.i]) { p.i += 1 }
            return p.i - s
        }
        guard i < b.count else { throw fail("bad number") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits(&self) == 0 {
            throw fail("bad number")
        }
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            integral = false
            guard digits(&self) > 0 else { throw fail("bad fraction") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            integral = false
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw fail("bad exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if integral, let v = Int64(text), v != 0 || b[start] != UInt8(ascii: "-") { return .int(v) }  // -0 as written
        guard let d = Double(text), d.isFinite else { throw fail("number out of range") }
        // Kept as written, so that an id is echoed exactly; a parameter reads it through `Double` (a typed
        // integer parameter accepts 1.0 or 1e3, as JSONDecoder does).
        return .number(text)
    }
}

// MARK: - The hot messages, as JSON values without the Codable round trip

extension RPCErrorObject {
    /// The same members `Encodable` writes (`data` only when present).
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }
}

extension RPCResponse {
    /// One response line: compact JSON, keys sorted, then a newline.
    public var jsonLine: [UInt8] {
        var o: [String: JSONValue] = ["jsonrpc": .string(jsonrpc), "id": id]
        if let result { o["result"] = result }
        if let error { o["error"] = error.jsonValue }
        var out = JSONText.serialize(.object(o))
        out.append(0x0A)
        return out
    }
}

extension InboxItem {
    /// The same members `Encodable` writes (optional ones only when present).
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [
            "message_id": .string(message_id), "kind": .string(kind), "from": .string(from), "text": .string(text),
            "created_at": .int(created_at), "received_at": .int(received_at), "read": .bool(read),
        ]
        if let from_name { o["from_name"] = .string(from_name) }
        if let followed { o["followed"] = .bool(followed) }
        if let channel { o["channel"] = .string(channel) }
        if let sender { o["sender"] = .string(sender) }
        return .object(o)
    }
}

extension RPCNotification where Params == InboxItem {
    /// One notification line: compact JSON, keys sorted, then a newline.
    public var jsonLine: [UInt8] {
        var out = JSONText.serialize(
            .object(["jsonrpc": .string(jsonrpc), "method": .string(method), "params": params.jsonValue]))
        out.append(0x0A)
        return out
    }
}
