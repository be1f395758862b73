import EstafetteAPI
import Testing

@testable import estafette

/// `estafette sent`: one line per sent message with its recipient and delivery status.
@Suite struct SentTests {
    @Test func listsRecipientAndStatus() {
        let id = "es1vl4iagofhuegxnrtys5bpc6hzem566kr2il3mdguixdy2wcuqvjtt2twai"
        let list = SentList(messages: [
            SentItem(message_id: "b", to: id, sent_at: 200, status: "sent"),
            SentItem(message_id: "a", to: id, to_name: "bob", sent_at: 100, status: "delivered", delivered_at: 150),
        ])
        let text = Estafette.Sent.describe(list) { "t\($0)" }
        #expect(
            text == """
                t200  es1vl4iagofhueg…twai  sent
                t100  bob                   delivered t150
                """)
        #expect(Estafette.Sent.describe(SentList(messages: []), time: { "\($0)" }) == "No sent messages.")
    }
}
