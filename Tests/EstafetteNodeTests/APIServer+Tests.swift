import EstafetteAPI
import EstafetteCore
import Foundation
import Testing

/// One request line in, one answer line out (`respond(to:dispatcher:)`), on a node with a real database and no
/// socket: the JSON-RPC rules of docs/api.md, "Framing and protocol rules" and "Errors".
@Suite("API request lines")
struct APIRequestLineTests {
    static func withNode(_ body: (TestNode) async throws -> Void) async throws {
        try await withScratchDir("api") { dir in try await body(try TestNode(dir: dir)) }
    }

    /// The answer to `line`, decoded.
    static func answer(_ node: TestNode, _ line: String) async throws -> RPCResponse {
        let text = try #require(await node.answer(line), "no answer to \(line)")
        return try JSONDecoder().decode(RPCResponse.self, from: Data(text.utf8))
    }

    @Test(
        "a line that is not JSON is a parse error (-32700) with a null id",
        arguments: [
            #"{"jsonrpc":"2.0","id":42,"method":"node.status""#,
            #"{"jsonrpc":"2.0","id":1,"method":"node.status"} {"jsonrpc":"2.0","id":2,"method":"node.status"}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"\ud800"}"#,
            "nonsense",
        ])
    func parseError(line: String) async throws {
        try await Self.withNode { node in
            let r = try await Self.answer(node, line)
            #expect(r.id == .null)
            #expect(r.error == RPCErrorObject(code: -32700, message: "parse error: the line is not valid JSON"))
        }
    }

    @Test("invalid UTF-8 is a parse error, not a crash")
    func invalidUTF8() async throws {
        try await Self.withNode { node in
            let bytes =
                Array(#"{"jsonrpc":"2.0","id":1,"method":"node.st"#.utf8) + [0xC3, 0x28] + Array(#"tus"}"#.utf8)
            let text = try #require(await node.answer(bytes: bytes))
            let r = try JSONDecoder().decode(RPCResponse.self, from: Data(text.utf8))
            #expect(r.id == .null)
            #expect(r.error?.code == -32700)
        }
    }

    /// The examples of JSON-RPC 2.0 section 7 on batches, with this API's methods in place of theirs ("sum" →
    /// node.status, "notify_hello" → a notification, "subtract" → peers.list, "get_data" → identity.show).
    @Test("batches answer as JSON-RPC 2.0's own examples say (section 7)")
    func specificationBatches() async throws {
        try await Self.withNode { node in
            func array(_ line: String) async throws -> [RPCResponse] {
                let text = try #require(await node.answer(line), "no answer to \(line)")
                return try JSONDecoder().decode([RPCResponse].self, from: Data(text.utf8))
            }
            // rpc call Batch: results, an invalid request (null id), a method not found, in order; the
            // notification gets no answer.
            let mixed = try await array(
                #"[{"jsonrpc":"2.0","method":"node.status","id":"1"},"#
                    + #"{"jsonrpc":"2.0","method":"identity.show"},"#
                    + #"{"jsonrpc":"2.0","method":"peers.list","id":"2"},"#
                    + #"{"foo":"boo"},"#
                    + #"{"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},"#
                    + #"{"jsonrpc":"2.0","method":"identity.show","id":"9"}]"#)
            #expect(mixed.map(\.id) == [.string("1"), .string("2"), .null, .string("5"), .string("9")])
            #expect(mixed[0].result != nil && mixed[1].result != nil && mixed[4].result != nil)
            #expect(mixed[2].error?.code == -32600)
            #expect(mixed[3].error?.code == -32601)
            // rpc call Batch, invalid JSON: one parse error, not an array.
            let broken = try Self.answerObject(
                await node.answer(#"[{"jsonrpc":"2.0","method":"node.status","id":"1"},{"jsonrpc":"2.0","method"]"#))
            #expect(broken.id == .null && broken.error?.code == -32700)
            // rpc call with an empty Array: one invalid request, not an array.
            let empty = try Self.answerObject(await node.answer("[]"))
            #expect(empty.id == .null && empty.error?.code == -32600)
            // rpc call with an invalid Batch (but not empty), and with invalid Batches: one error per element.
            let one = try await array("[1]")
            #expect(one.map(\.id) == [.null] && one.allSatisfy { $0.error?.code == -32600 })
            let three = try await array("[1,2,3]")
            #expect(three.count == 3 && three.allSatisfy { $0.id == .null && $0.error?.code == -32600 })
            // rpc call Batch (all notifications): nothing at all.
            #expect(
                await node.answer(
                    #"[{"jsonrpc":"2.0","method":"node.status"},{"jsonrpc":"2.0","method":"identity.show"}]"#)
                    == nil)
            // Beyond the spec: a send in a batch is answered after its commit, in its place; subscribe is refused
            // in a batch; a batch over the limit is refused whole.
            let id = PublicID(key: Fixture.bob.publicKey).description
            let sends = try await array(
                #"[{"jsonrpc":"2.0","method":"contacts.add","params":{"name":"Bob","id":"\#(id)"},"id":1},"#
                    + #"{"jsonrpc":"2.0","method":"messages.send","params":{"to":"Bob","text":"hi"},"id":2},"#
                    + #"{"jsonrpc":"2.0","method":"subscribe","id":3}]"#)
            #expect(sends.map(\.id) == [.int(1), .int(2), .int(3)])
            #expect(sends[0].error == nil && sends[1].error == nil, "\(sends)")
            #expect(sends[2].error?.message == "subscribe cannot be part of a batch: send it on its own line")
            let many = "[" + Array(repeating: #"{"jsonrpc":"2.0","method":"node.status","id":1}"#, count: 65)
                .joined(separator: ",") + "]"
            let tooMany = try Self.answerObject(await node.answer(many))
            #expect(tooMany.error?.message == "a batch holds at most 64 requests; this one holds 65")
        }
    }

    static func answerObject(_ text: String?) throws -> RPCResponse {
        try JSONDecoder().decode(RPCResponse.self, from: Data(try #require(text).utf8))
    }

    @Test("subscribe answers subscribed and turns the connection into a subscription; nothing else does")
    func subscribeFlag() async throws {
        try await Self.withNode { node in
            guard
                case .now(let text, let subscribes) = await node.handle(
                    try TestNode.line(RPC.Method.subscribe, Empty()))
            else {
                Issue.record("subscribe was not answered at once")
                return
            }
            #expect(subscribes)
            #expect(text == #"{"id":1,"jsonrpc":"2.0","result":{"subscribed":true}}"#)
            guard case .now(_, let other) = await node.handle(try TestNode.line(RPC.Method.nodeStatus, Empty())) else {
                Issue.record("node.status was not answered at once")
                return
            }
            #expect(!other)
        }
    }

    @Test(
        "a request that is not a valid JSON-RPC 2.0 request is refused with -32600 and says why",
        arguments: [
            (#"[]"#, JSONValue.null, "an empty batch is not a request"),
            (#""node.status""#, .null, "a request must be a JSON object"),
            ("42", .null, "a request must be a JSON object"),
            (#"{"jsonrpc":"1.0","id":44,"method":"node.status"}"#, .int(44), #""jsonrpc" must be "2.0""#),
            (#"{"id":44,"method":"node.status"}"#, .int(44), #""jsonrpc" must be "2.0""#),
            (#"{"jsonrpc":"2.0","id":{"n":1},"method":"node.status"}"#, .null, "id must be a string, a number or null"),
            (#"{"jsonrpc":"2.0","id":true,"method":"node.status"}"#, .null, "id must be a string, a number or null"),
            (#"{"jsonrpc":"2.0","id":45,"method":7}"#, .int(45), #""method" must be a string"#),
            (#"{"jsonrpc":"2.0","id":"x"}"#, .string("x"), #""method" must be a string"#),
        ])
    func invalidRequest(line: String, id: JSONValue, message: String) async throws {
        try await Self.withNode { node in
            let r = try await Self.answer(node, line)
            #expect(r.id == id)
            #expect(r.error == RPCErrorObject(code: -32600, message: message))
        }
    }

    @Test("an unknown method is -32601, naming it and every known method; a huge name is cut")
    func unknownMethod() async throws {
        try await Self.withNode { node in
            let r = try await Self.answer(node, #"{"jsonrpc":"2.0","id":34,"method":"messages.sned"}"#)
            #expect(r.id == .int(34))
            #expect(
                r.error?.message
                    == "unknown method 'messages.sned'; known methods: node.status, identity.show, contacts.add, "
                    + "contacts.list, contacts.remove, messages.send, alerts.post, alerts.follow, alerts.unfollow, "
                    + "alerts.following, inbox.list, inbox.mark_read, subscribe, peers.list, relays.add, "
                    + "relays.remove, relays.list, store.export, store.import, channels.join, channels.leave, "
                    + "channels.list, channels.post, contacts.block, contacts.unblock, node.wipe, "
                    + "contacts.safety_number, contacts.verify, identity.invite, messages.status, messages.sent")
            #expect(r.error?.code == -32601)
            let long = String(repeating: "x", count: 100_000)
            let big = try await Self.answer(node, #"{"jsonrpc":"2.0","id":1,"method":"\#(long)"}"#)
            let message = try #require(big.error?.message)
            #expect(message.hasPrefix("unknown method '" + String(repeating: "x", count: 80) + "'; known methods"))
        }
    }

    @Test("ids come back exactly as sent: strings, integers, null, fractions, exponents, integers beyond 64 bits")
    func idsAreEchoed() async throws {
        try await Self.withNode { node in
            for raw in [
                #""abc-1""#, "7", "null", "1.0", "2.5", "12345678901234567890", "-9223372036854775809", "1E3",
                "-0.5e-3", "9007199254740993", "-0",
            ] {
                let line = #"{"jsonrpc":"2.0","id":\#(raw),"method":"identity.show"}"#
                let text = try #require(await node.answer(line), "no answer to \(line)")
                // The id's text itself, not a value equal to it: 12345678901234567890 must not come back as
                // 1.2345678901234567e+19, nor 1.0 as 1.
                #expect(text.contains(#""id":\#(raw),"#) || text.contains(#""id":\#(raw)}"#), "id \(raw): \(text)")
                let r = try JSONDecoder().decode(RPCResponse.self, from: Data(text.utf8))
                #expect(r.result?["id"]?.stringValue == node.id)
            }
            // An error answer echoes it too.
            let text = try #require(await node.answer(#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"nope"}"#))
            #expect(text.contains(#""id":18446744073709551616"#), "\(text)")
        }
    }

    @Test("blank lines get no answer")
    func blankLines() async throws {
        try await Self.withNode { node in
            for line in ["", "   ", "\t", " \r"] {
                #expect(await node.answer(line) == nil, "answered \(Array(line.utf8))")
            }
        }
    }

    @Test("a notification is carried out without an answer, even when it fails")
    func notifications() async throws {
        try await Self.withNode { node in
            let bob = Fixture.id(Fixture.bob)
            #expect(
                await node.answer(#"{"jsonrpc":"2.0","method":"contacts.add","params":{"name":"bob","id":"\#(bob)"}}"#)
                    == nil)
            #expect(await node.answer(#"{"jsonrpc":"2.0","method":"no.such.method"}"#) == nil)
            #expect(await node.answer(#"{"jsonrpc":"2.0","method":"contacts.add","params":{"name":""}}"#) == nil)
            #expect(await node.answer(#"{"jsonrpc":"2.0","method":"alerts.post","params":{"text":"quiet"}}"#) == nil)
            let contacts = try await node.call(RPC.Method.contactsList, as: ContactsList.self)
            #expect(contacts.contacts == [Contact(name: "bob", id: bob)])
            #expect(try await node.inbox().map(\.text) == ["quiet"], "the notified alert was posted")
        }
    }

    @Test("the answer to a send waits for its group commit; nothing is reported sent before it is on disk")
    func sendAnswersAfterCommit() async throws {
        try await Self.withNode { node in
            let line = try TestNode.line(RPC.Method.alertsPost, AlertsPostParams(text: "bridge closed"))
            guard case .afterCommit(let finish) = await node.handle(line) else {
                Issue.record("alerts.post was answered before its commit")
                return
            }
            #expect(try node.store.envelopeCount() == 0, "nothing is written before the group commit")
            await node.commit()
            #expect(try node.store.envelopeCount() == 1)
            let answer = try #require(await finish())
            let r = try JSONDecoder().decode(RPCResponse.self, from: Data(answer.utf8))
            let id = try #require(r.result?["message_id"]?.stringValue)
            #expect(try await node.inbox().map(\.message_id) == [id])
        }
    }
}
