import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    FuzzSeeds.writeIfAsked(seeds)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RPCLineFuzz.run(FuzzInput(data, size).bytes)
    return 0
}

func seeds() -> [(name: String, bytes: [UInt8])] {
    let id = "es1" + String(repeating: "q", count: 10)
    let lines: [(String, String)] = [
        ("status", #"{"jsonrpc":"2.0","id":1,"method":"node.status"}"#),
        ("status-string-id", #"{"jsonrpc":"2.0","id":"a-1","method":"node.status","params":{}}"#),
        ("notification", #"{"jsonrpc":"2.0","method":"subscribe"}"#),
        ("null-id", #"{"jsonrpc":"2.0","id":null,"method":"identity.show"}"#),
        ("contacts-add", #"{"jsonrpc":"2.0","id":2,"method":"contacts.add","params":{"name":"bob","id":"\#(id)"}}"#),
        ("send", #"{"jsonrpc":"2.0","id":3,"method":"messages.send","params":{"to":"bob","text":"hi ✓"}}"#),
        ("alert", #"{"jsonrpc":"2.0","id":4.5,"method":"alerts.post","params":{"text":"storm"}}"#),
        ("follow", #"{"jsonrpc":"2.0","id":5,"method":"alerts.follow","params":{"id":"\#(id)"}}"#),
        ("inbox", #"{"jsonrpc":"2.0","id":6,"method":"inbox.list","params":{"limit":10,"since":0,"unread":true}}"#),
        ("mark-read", #"{"jsonrpc":"2.0","id":7,"method":"inbox.mark_read","params":{"message_ids":["\#(String(repeating: "ab", count: 32))"]}}"#),
        ("status-of", #"{"jsonrpc":"2.0","id":8,"method":"messages.status","params":{"message_id":"\#(String(repeating: "cd", count: 32))"}}"#),
        ("sent", #"{"jsonrpc":"2.0","id":9,"method":"messages.sent","params":{"limit":5}}"#),
        ("batch", #"[{"jsonrpc":"2.0","id":1,"method":"node.status"}]"#),
        ("batch-mixed", #"[{"jsonrpc":"2.0","id":1,"method":"node.status"},{"jsonrpc":"2.0","method":"x"},1,{"foo":"boo"}]"#),
        ("batch-empty", "[]"),
        ("bad-version", #"{"jsonrpc":"1.0","id":1,"method":"node.status"}"#),
        ("bad-id", #"{"jsonrpc":"2.0","id":{"a":1},"method":"node.status"}"#),
        ("big-numbers", #"{"jsonrpc":"2.0","id":1e400,"method":"x","params":{"a":-9223372036854775809,"b":1.5e-400}}"#),
        ("escapes", #"{"jsonrpc":"2.0","id":"\ud83d\ude00\u0000","method":"\n","params":[true,false,null]}"#),
        ("blank", " \t\r"),
        ("not-json", "hello"),
    ]
    return lines.map { ($0.0, Array($0.1.utf8)) }
}
