import EstafetteAPI
import Foundation
import Testing

@testable import EstafetteNode

@Suite("API request lines")
struct RequestLineTests {
    func parse(_ line: String) -> RequestLine { RequestLine(parsing: Data(line.utf8)) }

    func errorCode(_ parsed: RequestLine) -> Int? {
        if case .invalid(_, let error) = parsed { return error.code }
        return nil
    }

    @Test("a request with an id is a call, answered under that id")
    func call() {
        #expect(
            parse(#"{"jsonrpc":"2.0","id":7,"method":"inbox.list","params":{"limit":5}}"#)
                == .call(id: .int(7), method: "inbox.list", params: .object(["limit": .int(5)])))
        #expect(
            parse(#"{"jsonrpc":"2.0","id":"x","method":"node.status"}"#)
                == .call(id: .string("x"), method: "node.status", params: nil))
    }

    @Test("no id is a notification; a null id is a call answered under null")
    func notification() {
        #expect(parse(#"{"jsonrpc":"2.0","method":"subscribe"}"#) == .call(id: nil, method: "subscribe", params: nil))
        #expect(
            parse(#"{"jsonrpc":"2.0","id":null,"method":"subscribe"}"#)
                == .call(id: .null, method: "subscribe", params: nil))
    }

    @Test("blank lines are ignored", arguments: ["", " ", "\t\r", "  \r"])
    func blank(line: String) {
        #expect(parse(line) == .blank)
    }

    @Test("a line that is not JSON is a parse error under a null id")
    func notJSON() {
        guard case .invalid(let id, let error) = parse("{\"jsonrpc\":") else {
            Issue.record("accepted broken JSON")
            return
        }
        #expect(id == .null)
        #expect(error.code == RPC.ErrorCode.parseError)
    }

    @Test("empty batches, non-objects, bad ids, versions and methods are invalid requests")
    func invalid() {
        let lines = [
            #"[]"#,
            #""node.status""#,
            #"{"jsonrpc":"2.0","id":{"a":1},"method":"node.status"}"#,
            #"{"jsonrpc":"2.0","id":[1],"method":"node.status"}"#,
            #"{"jsonrpc":"1.0","id":1,"method":"node.status"}"#,
            #"{"id":1,"method":"node.status"}"#,
            #"{"jsonrpc":"2.0","id":1,"method":5}"#,
        ]
        for line in lines {
            #expect(errorCode(parse(line)) == RPC.ErrorCode.invalidRequest, "\(line)")
        }
    }

    @Test("an error found after the id is read is answered under that id")
    func errorUnderID() {
        guard case .invalid(let id, _) = parse(#"{"jsonrpc":"1.0","id":"a","method":"node.status"}"#) else {
            Issue.record("accepted version 1.0")
            return
        }
        #expect(id == .string("a"))
    }
}
