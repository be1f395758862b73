import Testing

@testable import EstafetteCore

/// Delivery receipts: a direct message of content type 3, sent by the recipient's node once its store put a message
/// in the inbox, and accepted by the sender's node only from that message's recipient.
@Suite("Delivery receipts")
struct ReceiptTests {
    static func node(_ identity: SigningKeyPair, receipts: Bool = true) -> MeshNode {
        var settings = MeshNode.Settings()
        settings.sendsReceipts = receipts
        return MeshNode(identity: identity, meshKey: .publicDefault, session: 7, seed: 1, settings: settings)
    }

    /// Alice sends Bob a message; Bob's node accepts it. Returns both nodes, the message as Bob got it.
    static func aliceToBob(receipts: Bool = true) throws -> (MeshNode, MeshNode, ReceivedMessage) {
        var alice = node(Fixture.alice)
        var bob = node(Fixture.bob, receipts: receipts)
        let sent = try alice.sendDirect(
            text: "on my way", to: Fixture.bob.publicKey.bytes, lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(sent.sent?.recipient == Fixture.bob.publicKey)
        #expect(sent.sent?.deliveredAt == nil)
        let got = try bob.submit(try Envelope(decoding: sent.envelope.bytes), now: Fixture.now + 1_000)
        let message = try #require(got.message)
        #expect(message.id == sent.envelope.id)
        return (alice, bob, message)
    }

    @Test("a receipt is sealed like a short message, the same size, and opens to the ID it acknowledges")
    func builtAndParsed() throws {
        var keys = KeyCache()
        let acknowledged = EnvelopeID(ofEncoded: [1, 2, 3])
        let receipt = try DirectMessage.sealReceipt(
            for: acknowledged, from: Fixture.bob, to: Fixture.alice.publicKey, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry, keys: &keys)
        let text = try DirectMessage.seal(
            text: "ok", from: Fixture.bob, to: Fixture.alice.publicKey, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry)
        #expect(receipt.kind == .direct && receipt.tag.isEmpty)
        #expect(receipt.encoded().count == text.encoded().count, "a carrier sees the same size as a short message")
        let opened = try DirectMessage.open(receipt, id: EnvelopeID(ofEncoded: receipt.encoded()), with: Fixture.alice)
        #expect(opened.acknowledges == acknowledged)
        #expect(opened.sender == Fixture.bob.publicKey)
        #expect(opened.text.isEmpty)
        #expect(try DirectMessage.open(text, id: .zero, with: Fixture.alice).acknowledges == nil)
        #expect(throws: MessageError.notForUs) { try DirectMessage.open(receipt, id: .zero, with: Fixture.carol) }
    }

    @Test("a receipt whose content is not exactly one envelope ID is refused")
    func malformedReceipt() throws {
        var keys = KeyCache()
        for length in [0, 31, 33] {
            let e = try DirectMessage.seal(
                content: [UInt8](repeating: 9, count: length), type: DirectMessage.contentTypeReceipt,
                from: Fixture.bob, to: Fixture.alice.publicKey, createdAt: Fixture.nowSeconds,
                expiresAt: Fixture.expiry, keys: &keys)
            #expect(throws: MessageError.malformed("receipt length")) {
                try DirectMessage.open(e, id: .zero, with: Fixture.alice)
            }
        }
    }

    @Test("a message that reaches the inbox is acknowledged, and the receipt marks it delivered at its sender")
    func roundTrip() throws {
        let start = try Self.aliceToBob()
        var (alice, bob) = (start.0, start.1)
        let message = start.2
        let receipts = bob.committed([(message, .inbox)], lifetimeSeconds: 7_200, now: Fixture.now + 2_000)
        #expect(receipts.count == 1)
        #expect(bob.counters["receipts_sent"] == 1)
        let receipt = try #require(receipts.first)
        #expect(receipt.message == nil, "Bob's node does not open its own receipt")
        #expect(receipt.sent == nil, "a receipt is not a sent message")
        #expect(receipt.afterStore.count == 1, "multicast once stored")
        #expect(
            receipt.envelope.expiresAt == Envelope.expiry(createdAt: Fixture.nowSeconds + 2, lifetimeSeconds: 7_200),
            "a receipt lives as a message sent now, not as the one it acknowledges")
        let got = try alice.submit(try Envelope(decoding: receipt.envelope.bytes), now: Fixture.now + 3_000)
        #expect(got.message?.acknowledges == message.id)
        #expect(got.actions.first == .store(got.envelope, message: got.message))
        #expect(alice.counters["receipts_received"] == 1)
        #expect(alice.counters["messages_delivered"] == 0, "a receipt is not a message")
        // A carrier holds the receipt and reads nothing.
        var carol = Self.node(Fixture.carol)
        let carried = try carol.submit(try Envelope(decoding: receipt.envelope.bytes), now: Fixture.now + 3_000)
        #expect(carried.message == nil)
        #expect(carol.holds(receipt.envelope.id))
    }

    @Test("a receipt from anyone but the recipient, or for a message not sent here, is refused and counted")
    func wrongSender() throws {
        let start = try Self.aliceToBob()
        var alice = start.0
        let message = start.2
        var keys = KeyCache()
        let forged = try DirectMessage.sealReceipt(
            for: message.id, from: Fixture.mallory, to: Fixture.alice.publicKey, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry, keys: &keys)
        let got = try alice.submit(forged, now: Fixture.now + 3_000)
        #expect(got.message == nil, "not marked delivered")
        #expect(alice.holds(got.envelope.id), "still carried, as every node that cannot read it does")
        #expect(alice.counters["receipts_refused"] == 1)
        #expect(alice.counters["drop.receipt_wrong_sender"] == 1)
        let unknown = try DirectMessage.sealReceipt(
            for: EnvelopeID(ofEncoded: [7]), from: Fixture.bob, to: Fixture.alice.publicKey,
            createdAt: Fixture.nowSeconds, expiresAt: Fixture.expiry, keys: &keys)
        #expect(try alice.submit(unknown, now: Fixture.now + 3_000).message == nil)
        #expect(alice.counters["drop.receipt_unknown_message"] == 1)
        #expect(alice.counters["receipts_refused"] == 2)
        #expect(alice.counters["receipts_received"] == 0)
    }

    @Test("no receipt for a request, a blocked sender, a duplicate, a receipt, our own message, or when turned off")
    func noReceipt() throws {
        let start = try Self.aliceToBob()
        var bob = start.1
        let message = start.2
        for placement in [MeshNode.Placement.request, .hidden, .duplicate, .acknowledged] {
            #expect(bob.committed([(message, placement)], lifetimeSeconds: 3_600, now: Fixture.now).isEmpty)
        }
        var receipt = message
        receipt.acknowledges = EnvelopeID(ofEncoded: [1])
        #expect(bob.committed([(receipt, .inbox)], lifetimeSeconds: 3_600, now: Fixture.now).isEmpty)
        let own = try bob.sendDirect(
            text: "note", to: Fixture.bob.publicKey.bytes, lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(own.sent?.deliveredAt == Fixture.nowSeconds, "a note to self is delivered once stored")
        #expect(bob.committed([(try #require(own.message), .inbox)], lifetimeSeconds: 3_600, now: Fixture.now).isEmpty)
        let alert = try bob.postAlert(text: "public", lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(bob.committed([(try #require(alert.message), .inbox)], lifetimeSeconds: 3_600, now: Fixture.now).isEmpty)
        #expect(bob.counters["receipts_sent"] == 0)
        var quiet = try Self.aliceToBob(receipts: false)
        #expect(quiet.1.committed([(quiet.2, .inbox)], lifetimeSeconds: 3_600, now: Fixture.now).isEmpty)
    }

    @Test("a sent message waits for its receipt until none can come; a failed store forgets it")
    func awaitedBounds() throws {
        let start = try Self.aliceToBob()
        var alice = start.0
        let message = start.2
        #expect(alice.awaitedReceiptCount == 1)
        let horizon = Fixture.expiry + Envelope.maxLifetimeSeconds + Envelope.clockSkewSeconds
        _ = alice.timerFired(.sweep, now: Millis(horizon - 1) * 1000, store: [EnvelopeID: StoredEnvelope]())
        #expect(alice.awaitedReceiptCount == 1)
        _ = alice.timerFired(.sweep, now: Millis(horizon) * 1000, store: [EnvelopeID: StoredEnvelope]())
        #expect(alice.awaitedReceiptCount == 0)
        alice.awaitReceipt(for: message.id, from: Fixture.bob.publicKey.bytes, expiresAt: Fixture.expiry, now: Fixture.now)
        #expect(alice.awaitedReceiptCount == 1, "loaded again from the store at start-up")
        alice.storeFailed(message.id)
        #expect(alice.awaitedReceiptCount == 0)
    }
}
