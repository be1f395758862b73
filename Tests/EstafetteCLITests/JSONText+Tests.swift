import EstafetteAPI
import Foundation
import Testing

/// The API's own JSON reader and writer must agree with Foundation's on everything a client may send.
@Suite("JSONText")
struct JSONTextTests {
    static func parse(_ s: String) throws -> JSONValue { try JSONText.parse(Array(s.utf8)) }

    @Test("parses what JSONDecoder parses into the same JSONValue")
    func agreesWithFoundation() throws {
        let samples = [
            #"{"jsonrpc":"2.0","id":7,"method":"messages.send","params":{"to":"b","text":"héllo \"q\" \\ \/ \n"}}"#,
            #"  [1, -2, 3.5, -0.25e2, 1E3, true, false, null, "", {}, []]  "#,
            #"{"a":{"b":[{"c":"\u00e9\ud83d\udeb2\u0000"}]},"n":9223372036854775807,"m":-9223372036854775808}"#,
            #""just a string""#, "12", "1.0", "-0",
        ]
        for s in samples {
            let ours = try Self.parse(s)
            let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(s.utf8))
            #expect(ours.asFoundationReads == foundation, "\(s)")
        }
    }

    @Test("keeps the text of every number that is not a plain Int64, and writes it back unchanged")
    func numbersKeepTheirText() throws {
        for text in ["12345678901234567890", "-9223372036854775809", "1.0", "2.50", "1E3", "-0.5e-3", "-0"] {
            let v = try Self.parse(text)
            #expect(v == .number(text), "\(text)")
            #expect(String(decoding: JSONText.serialize(.array([v])), as: UTF8.self) == "[\(text)]")
        }
        #expect(try Self.parse("9223372036854775807") == .int(Int64.max))
        // A typed parameter still reads such a number (as JSONDecoder would read the text).
        struct P: Decodable { let limit: Int }
        #expect(try JSONValue.object(["limit": Self.parse("1e2")]).decode(P.self).limit == 100)
    }

    @Test(
        "refuses malformed JSON",
        arguments: [
            "", " ", "{", "}", "[1,]", "[1 2]", #"{"a" 1}"#, #"{"a":1,}"#, #"{a:1}"#, "01", "1.", ".5", "-", "1e",
            "tru", "nul", #""unterminated"#, #""bad \x escape""#, #""\ud800""#, #""\udc00""#, "\"tab\there\"",
            "{} {}", "[1] x", "+1", "NaN", "1e999",
        ])
    func refusesMalformed(_ s: String) {
        #expect(throws: JSONText.ParseError.self) { try Self.parse(s) }
    }

    @Test("refuses invalid UTF-8 and nesting deeper than the bound")
    func hostileInput() throws {
        #expect(throws: JSONText.ParseError.self) { try JSONText.parse([0x22, 0xFF, 0xFE, 0x22]) }
        let deep =
            String(repeating: "[", count: JSONText.maxDepth + 2) + String(repeating: "]", count: JSONText.maxDepth + 2)
        #expect(throws: JSONText.ParseError.self) { try Self.parse(deep) }
        let ok = String(repeating: "[", count: JSONText.maxDepth) + String(repeating: "]", count: JSONText.maxDepth)
        #expect(throws: Never.self) { try Self.parse(ok) }
        // Far deeper input fails cleanly too (no stack overflow).
        #expect(throws: JSONText.ParseError.self) { try Self.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test("writes compact JSON with sorted keys that Foundation reads back to the same value")
    func writesRoundTrip() throws {
        let value: JSONValue = .object([
            "z": .array([.int(-3), .double(2.5), .bool(true), .null]),
            "a": .string("line\nbreak \"quoted\" back\\slash / tab\t bell\u{07} é 🚲"),
            "m": .object(["y": .int(Int64.max), "x": .double(-1.0)]),
        ])
        let text = JSONText.serialize(value)
        let s = String(decoding: text, as: UTF8.self)
        #expect(s.hasPrefix(#"{"a":"line\nbreak \"quoted\" back\\slash / tab\t bell\u0007 é 🚲","m":{"x":-1,"y":"#))
        #expect(!s.contains(" : ") && !s.contains("\n"))
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text)) == value.normalisingIntegralDoubles)
        #expect(try JSONText.parse(text).asFoundationReads == value.normalisingIntegralDoubles)
    }

    @Test("response and notification lines carry the same members as their Encodable forms")
    func linesMatchEncodable() throws {
        let responses = [
            RPCResponse(id: .int(3), result: .object(["message_id": .string("ab")])),
            RPCResponse(id: .string("x"), error: RPCErrorObject(code: -32602, message: "params: missing 'to'")),
            RPCResponse(id: .null, error: RPCErrorObject(code: 1, message: "m", data: .array([.int(1)]))),
        ]
        for r in responses {
            let line = r.jsonLine
            #expect(line.last == 0x0A)
            #expect(line.dropLast().allSatisfy { $0 != 0x0A })
            let ours = try JSONDecoder().decode(JSONValue.self, from: Data(line))
            let theirs = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(r))
            #expect(ours == theirs)
        }
        for followed: Bool? in [nil, true] {
            var item = InboxItem(
                message_id: "00ff", kind: "direct", from: "es1abc", from_name: followed == nil ? nil : "bob",
                text: "hi\n\"there\"", created_at: 5, received_at: 6, read: false, followed: followed)
            item.sender = followed == nil ? nil : "verified"
            item.channel = followed == nil ? nil : "assemblee"
            let n = RPCNotification(method: "message.received", params: item)
            let ours = try JSONDecoder().decode(RPCNotification<InboxItem>.self, from: Data(n.jsonLine))
            #expect(ours.params == item)
            #expect(ours.method == "message.received")
            let theirs = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(n))
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(n.jsonLine)) == theirs)
        }
    }
}

extension JSONValue {
    /// A number kept as text, as JSONDecoder reads it: an integer when integral and within Int64, else a Double.
    var asFoundationReads: JSONValue {
        switch self {
        case .number(let t):
            let d = Double(t)!
            if let v = Int64(exactly: d) { return .int(v) }
            return .double(d)
        case .array(let a): return .array(a.map(\.asFoundationReads))
        case .object(let o): return .object(o.mapValues(\.asFoundationReads))
        default: return self
        }
    }

    /// Integral doubles become ints, as they do once written as JSON without a fraction and read back.
    var normalisingIntegralDoubles: JSONValue {
        switch self {
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return .int(Int64(d))
        case .array(let a): return .array(a.map(\.normalisingIntegralDoubles))
        case .object(let o): return .object(o.mapValues(\.normalisingIntegralDoubles))
        default: return self
        }
    }
}
