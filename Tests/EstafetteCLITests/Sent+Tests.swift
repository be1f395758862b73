import EstafetteAPI
import Testing

@testable import estafette

/// `estafette sent`: one row per sent message with its recipient and delivery status.
@Suite(.plainEnglish) struct SentTests {
    @Test func listsRecipientAndStatus() {
        let id = "es1vl4iagofhuegxnrtys5bpc6hzem566kr2il3mdguixdy2wcuqvjtt2twai"
        let list = SentList(messages: [
            SentItem(message_id: "b", to: id, sent_at: 9_800, status: "sent"),
            SentItem(message_id: "a", to: id, to_name: "bob", sent_at: 2_800, status: "delivered", delivered_at: 9_700),
        ])
        #expect(
            Estafette.Sent.describe(list, now: 10_000) == """
                SENT       TO                    STATUS
                3 min ago  es1vl4iagofhueg…twai  sent
                2 h ago    bob                   delivered 5 min ago
                """)
        #expect(Estafette.Sent.describe(SentList(messages: []), now: 0) == "No sent messages.")
    }
}
