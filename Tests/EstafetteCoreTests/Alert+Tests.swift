import Testing

@testable import EstafetteCore

@Suite("Alert")
struct AlertTests {
    static func sign(_ text: String, by author: SigningKeyPair = Fixture.alice, sequence: UInt64 = 7) throws
        -> Envelope
    {
        try Alert.sign(
            text: text, by: author, sequence: sequence, createdAt: Fixture.nowSeconds, expiresAt: Fixture.expiry)
    }

    static func verify(_ envelope: Envelope) throws -> ReceivedMessage {
        try Alert.verify(envelope, id: EnvelopeID(ofEncoded: envelope.encoded()))
    }

    /// Rebuilds an alert body with other fields but the original signature.
    static func body(
        author: [UInt8], sequence: UInt64, createdAt: UInt64, text: [UInt8], signature: [UInt8]
    ) -> [UInt8] {
        author + be(sequence) + be(createdAt) + be(UInt16(text.count)) + text + signature
    }

    @Test("a signed alert verifies with its author, text, sequence and times")
    func roundTrip() throws {
        let envelope = try Self.sign("Road closed at the bridge")
        #expect(envelope.kind == .alert)
        #expect(envelope.expiresAt == Fixture.expiry)
        let decoded = try Envelope(decoding: envelope.encoded())
        let message = try Self.verify(decoded)
        #expect(message.kind == .alert)
        #expect(message.sender == Fixture.alice.publicKey)
        #expect(message.text == "Road closed at the bridge")
        #expect(message.sequence == 7)
        #expect(message.createdAt == Fixture.nowSeconds)
        #expect(message.expiresAt == Fixture.expiry)
        #expect(message.id == EnvelopeID(ofEncoded: envelope.encoded()))
    }

    @Test("the alert body layout matches the diagram")
    func layout() throws {
        let envelope = try Self.sign("hi", sequence: 0x0102)
        let b = envelope.body
        #expect(b.count == 32 + 8 + 8 + 2 + 2 + 64)
        #expect(Array(b[0..<32]) == Fixture.alice.publicKey.bytes)
        #expect(Array(b[32..<40]) == be(UInt64(0x0102)))
        #expect(Array(b[40..<48]) == be(Fixture.nowSeconds))
        #expect(Array(b[48..<52]) == [0, 2] + Array("hi".utf8))
    }

    @Test("changing the text is a bad signature, whether or not its length changes")
    func changedText() throws {
        let envelope = try Self.sign("evacuate north")
        #expect(try Self.verify(envelope).text == "evacuate north")  // control
        let signature = Array(envelope.body.suffix(64))
        for text in ["evacuate south", "evacuate", "evacuate north!"] {
            var forged = envelope
            forged.body = Self.body(
                author: Fixture.alice.publicKey.bytes, sequence: 7, createdAt: Fixture.nowSeconds,
                text: Array(text.utf8), signature: signature)
            #expect(throws: MessageError.badSignature, "\(text)") { try Self.verify(forged) }
        }
    }

    @Test("changing expires_at, the tag, the sequence or created_at is a bad signature")
    func changedFields() throws {
        let envelope = try Self.sign("storm warning")
        var later = envelope
        later.expiresAt += 86_400
        #expect(throws: MessageError.badSignature) { try Self.verify(later) }
        var tagged = envelope
        tagged.tag = [1]
        #expect(throws: MessageError.badSignature) { try Self.verify(tagged) }
        let signature = Array(envelope.body.suffix(64))
        let text = Array("storm warning".utf8)
        for (sequence, createdAt) in [(UInt64(8), Fixture.nowSeconds), (7, Fixture.nowSeconds + 1)] {
            var forged = envelope
            forged.body = Self.body(
                author: Fixture.alice.publicKey.bytes, sequence: sequence, createdAt: createdAt, text: text,
                signature: signature)
            #expect(throws: MessageError.badSignature) { try Self.verify(forged) }
        }
    }

    @Test("a signature moved from one alert onto another is a bad signature")
    func movedSignature() throws {
        let first = try Self.sign("first")
        let second = try Self.sign("secnd")  // same length, same author
        var swapped = second
        swapped.body = Array(second.body.dropLast(64)) + Array(first.body.suffix(64))
        #expect(throws: MessageError.badSignature) { try Self.verify(swapped) }
    }

    @Test("claiming another author is a bad signature")
    func otherAuthor() throws {
        let envelope = try Self.sign("signed by Alice")
        var claimed = envelope
        claimed.body.replaceSubrange(0..<32, with: Fixture.bob.publicKey.bytes)
        #expect(throws: MessageError.badSignature) { try Self.verify(claimed) }
        // A small-order author is refused before any signature check.
        claimed.body.replaceSubrange(0..<32, with: smallOrderPoints[1].1)
        #expect(throws: MessageError.invalidKey) { try Self.verify(claimed) }
    }

    @Test("flipping any bit of the body or header fails verification")
    func flippedBits() throws {
        let envelope = try Self.sign("x")
        for bit in 0..<(envelope.body.count * 8) {
            var tampered = envelope
            tampered.body = flippingBit(bit, of: envelope.body)
            #expect(throws: MessageError.self, "bit \(bit)") { try Self.verify(tampered) }
        }
        for bit in 0..<64 {
            var tampered = envelope
            tampered.expiresAt ^= 1 << UInt64(bit)
            #expect(throws: MessageError.badSignature) { try Self.verify(tampered) }
        }
    }

    @Test("malformed alerts and limits")
    func malformed() throws {
        #expect(throws: MessageError.malformed("alert too short")) {
            try Self.verify(Envelope(kind: .alert, expiresAt: 1, body: [UInt8](repeating: 0, count: 113)))
        }
        let envelope = try Self.sign("abc")
        var lying = envelope
        lying.body[49] = 4  // text_len claims one byte more than present
        #expect(throws: MessageError.malformed("alert text length")) { try Self.verify(lying) }
        var wrongKind = envelope
        wrongKind.kind = .direct
        #expect(throws: MessageError.wrongKind) { try Self.verify(wrongKind) }
        let longest = String(repeating: "!", count: MessageLimits.maxTextBytes)
        #expect(try Self.verify(Self.sign(longest)).text == longest)
        #expect(throws: MessageError.textTooLong(MessageLimits.maxTextBytes + 1)) { try Self.sign(longest + "!") }
    }
}
