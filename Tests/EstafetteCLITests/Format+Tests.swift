import EstafetteAPI
import Testing

@testable import estafette

@Suite(.plainEnglish) struct FormatTests {
    @Test("a sender who is not a contact is shown by 16 characters of the ID (78 bits), not 8")
    func senderIDKeepsSixteenCharacters() {
        let id = "es1abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwxyz23"
        #expect(senderID(id) == "es1abcdefghijkl…yz23")
        #expect(senderID(id).filter { $0 != "…" }.count - 3 == 16)
        #expect(senderID("es1short") == "es1short")
    }

    @Test func durations() {
        #expect(duration(0) == "0s")
        #expect(duration(59) == "59s")
        #expect(duration(3725) == "1h 2m 5s")
        #expect(duration(90_061) == "1d 1h 1m 1s")
    }

    @Test func sanitizedReplacesTerminalControls() {
        #expect(sanitized("a\u{1B}[31mb") == "a\u{FFFD}[31mb")
        #expect(sanitized("a\r\nb\tc") == "a\nb\tc")
        #expect(sanitized("a\rb") == "a\u{FFFD}b")
    }

    @Test func inboxItemBlock() {
        let item = InboxItem(
            message_id: "ab", kind: "direct", from: "es1abcdefghijklmnopwxyz", from_name: nil,
            text: "hello\nworld", created_at: 1_700_000_000, received_at: 1_700_000_001, read: false)
        #expect(
            render(item, time: { _ in "2023-11-14 22:13" }) == """
                2023-11-14 22:13  direct  es1abcdefghijkl…wxyz  [unread]
                    hello
                    world
                """)
        var named = item
        named.from_name = "alice"
        named.read = true
        named.kind = "alert"
        #expect(render(named, time: { _ in "T" }) == "T  alert  alice  (NOT FOLLOWED)\n    hello\n    world")
        named.followed = true
        #expect(render(named, time: { _ in "T" }) == "T  alert  alice  (followed)\n    hello\n    world")
        var post = item
        post.kind = "channel"
        post.channel = "assemblee\u{1B}[31m"
        post.from_name = "alice"
        post.read = true
        #expect(render(post, time: { _ in "T" }).hasPrefix("T  channel  #assemblee"))
        #expect(!render(post, time: { _ in "T" }).contains("\u{1B}"), "a channel name is sanitized")
        #expect(render(post, time: { _ in "T" }).hasSuffix("alice\n    hello\n    world"))
    }

    @Test func localTimeShape() {
        let s = localTime(1_700_000_000)
        #expect(s.count == 16)
        #expect(s.hasPrefix("2023-11-1"))
    }

    @Test func trailingNewlineDroppedOnce() {
        #expect(Array(droppingTrailingNewline(Array("hi\n".utf8))) == Array("hi".utf8))
        #expect(Array(droppingTrailingNewline(Array("hi\r\n".utf8))) == Array("hi".utf8))
        #expect(Array(droppingTrailingNewline(Array("hi\n\n".utf8))) == Array("hi\n".utf8))
        #expect(Array(droppingTrailingNewline(Array("hi".utf8))) == Array("hi".utf8))
    }

    @Test func jsonLineSortsKeysOnOneLine() throws {
        let value = JSONValue.object(["b": .int(1), "a": .string("x/y"), "c": .array([.bool(true)])])
        #expect(try jsonLine(value) == #"{"a":"x/y","b":1,"c":[true]}"#)
    }
}
