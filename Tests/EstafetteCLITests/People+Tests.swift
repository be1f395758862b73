import ArgumentParser
import EstafetteAPI
import Testing

@testable import estafette

@Suite(.plainEnglish) struct PeopleCLITests {
    @Test func verifyAndSafetyNumberParse() throws {
        let sn = try #require(
            try Estafette.parseAsRoot(["contacts", "safety-number", "bob"]) as? Estafette.Contacts.SafetyNumberCommand)
        #expect(sn.name == "bob")
        let verify = try #require(
            try Estafette.parseAsRoot(Estafette.hoistGlobalOptions(["--json", "contacts", "verify", "bob"]))
                as? Estafette.Contacts.Verify)
        #expect(verify.name == "bob")
        #expect(verify.options.json)
    }

    @Test func safetyNumberIsShownInThreeRowsOfFourGroups() {
        let digits = (0..<12).map { String(repeating: String($0 % 10), count: 5) }.joined(separator: " ")
        let text = Estafette.Contacts.SafetyNumberCommand.describe(
            SafetyNumberInfo(name: "Bob Martin", id: "es1x", safety_number: digits, verified: false))
        #expect(
            text == """
                Safety number with Bob Martin:

                    00000  11111  22222  33333
                    44444  55555  66666  77777
                    88888  99999  00000  11111

                Not verified yet. If Bob Martin sees the same digits: estafette contacts verify 'Bob Martin'
                """)
        let verified = Estafette.Contacts.SafetyNumberCommand.describe(
            SafetyNumberInfo(name: "bob", id: "es1x", safety_number: digits, verified: true))
        #expect(verified.hasSuffix("\nbob is verified."))
    }

    @Test func contactsListShowsVerified() {
        let text = Estafette.Contacts.List.describe(
            ContactsList(contacts: [
                Contact(name: "bob", id: "es1b", verified: true), Contact(name: "carol", id: "es1c", verified: false),
            ]))
        #expect(text == "NAME   ID    VERIFIED\nbob    es1b  yes\ncarol  es1c  no")
    }

    @Test func inboxMarksVerifiedSenders() {
        var item = InboxItem(
            message_id: "00", kind: "direct", from: "es1b", from_name: "bob", text: "hi", created_at: 0,
            received_at: 0, read: true)
        item.sender = SenderTrust.verified
        #expect(render(item, time: { _ in "T" }) == "T  direct  bob  (verified)\n    hi")
        item.sender = SenderTrust.contact
        #expect(render(item, time: { _ in "T" }) == "T  direct  bob\n    hi")
    }

    @Test func shellQuoting() {
        #expect(shellQuoted("bob") == "bob")
        #expect(shellQuoted("Bob Martin") == "'Bob Martin'")
        #expect(shellQuoted("it's") == "'it'\\''s'")
    }


    @Test func contactAddedFromAnInvite() {
        #expect(
            Estafette.Contacts.Add.describe("zoe", ContactAdded(invite_name: "Zoé M.", relays: ["192.0.2.1:7300"]))
                == """
                Added contact zoe.
                Name in their invite: Zoé M.
                Relay hint: 192.0.2.1:7300 (to use it: estafette relays add 192.0.2.1:7300 RELAY-ID)
                Compare safety numbers: estafette contacts safety-number zoe
                """)
        #expect(
            Estafette.Contacts.Add.describe("bob", ContactAdded())
                == "Added contact bob.\nCompare safety numbers: estafette contacts safety-number bob")
        let add = try? Estafette.Contacts.Add.parse(["bob", "estafette:invite?v=1&c=00"])
        #expect(add?.params.invite == "estafette:invite?v=1&c=00")
        #expect(add?.params.id == nil)
        let byID = try? Estafette.Contacts.Add.parse(["bob", "es1xyz"])
        #expect(byID?.params.id == "es1xyz")
    }
}
