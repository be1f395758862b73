import Testing

@testable import EstafetteCore

@Suite("Invite")
struct InviteTests {
    static let id = PublicID(key: SigningKeyPair.deterministic(7).publicKey)

    @Test("round trips a name in any script, with and without relay hints")
    func roundTrip() throws {
        for (name, relays) in [
            ("Alice", [String]()), ("Zoé & Marc=1 %20", ["192.0.2.1:7300"]),
            ("Юлия 🙂", ["relay.example.org:7300", "[2001:db8::1]:7300"]),
        ] {
            let invite = try Invite(id: Self.id, name: name, relays: relays)
            let text = invite.description
            #expect(text.hasPrefix("estafette:invite?v=1&id=es1"))
            #expect(!text.contains(" "))
            #expect(try Invite(parsing: text) == invite)
            #expect(try Invite(parsing: "  " + text + "\n") == invite)
        }
    }

    @Test("any one character changed, dropped or added is refused")
    func corruptionRefused() throws {
        let text = try Invite(id: Self.id, name: "Alice", relays: ["192.0.2.1:7300"]).description
        let chars = Array(text)
        for i in chars.indices {
            var changed = chars
            changed[i] = chars[i] == "a" ? "b" : "a"
            #expect(throws: Invite.Failure.self) { try Invite(parsing: String(changed)) }
            var dropped = chars
            dropped.remove(at: i)
            #expect(throws: Invite.Failure.self) { try Invite(parsing: String(dropped)) }
        }
        #expect(throws: Invite.Failure.self) { try Invite(parsing: text + "0") }
    }

    @Test("clear errors")
    func messages() throws {
        let text = try Invite(id: Self.id, name: "Alice").description
        func message(_ t: String) -> String {
            do {
                _ = try Invite(parsing: t)
                return "parsed"
            } catch {
                return error.description
            }
        }
        #expect(message(String(text.dropLast())).contains("damaged"))
        #expect(message("hello").contains("not an Estafette invite"))
        #expect(message(String(text.prefix(40))).contains("no checksum"))
        #expect(message(String(repeating: "x", count: 5000)).contains("too long"))
        #expect(throws: Invite.Failure.self) { try Invite(id: Self.id, name: "") }
        #expect(throws: Invite.Failure.self) { try Invite(id: Self.id, name: "a\nb") }
        #expect(throws: Invite.Failure.self) { try Invite(id: Self.id, name: "a", relays: ["with space:1"]) }
        #expect(throws: Invite.Failure.self) { try Invite(id: Self.id, name: "a", relays: Array(repeating: "r:1", count: 5)) }
    }
}
