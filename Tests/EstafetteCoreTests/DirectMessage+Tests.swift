import Testing

@testable import EstafetteCore

@Suite("DirectMessage")
struct DirectMessageTests {
    static let createdAt = Fixture.nowSeconds
    static let expiresAt = Fixture.expiry

    static func seal(
        _ text: String, from sender: SigningKeyPair = Fixture.alice, to recipient: SigningKeyPair = Fixture.bob
    ) throws -> Envelope {
        try DirectMessage.seal(
            text: text, from: sender, to: recipient.publicKey, createdAt: createdAt, expiresAt: expiresAt)
    }

    static func open(_ envelope: Envelope, with me: SigningKeyPair = Fixture.bob) throws -> ReceivedMessage {
        try DirectMessage.open(envelope, id: EnvelopeID(ofEncoded: envelope.encoded()), with: me)
    }

    /// A direct message built by hand: `claimed` is written as the sender, `boxer` makes the inner box.
    static func handBuilt(
        claiming claimed: SigningPublicKey, boxedBy boxer: SigningKeyPair, to recipient: SigningKeyPair,
        text: String = "transfer the money", innerExpiry: UInt64 = expiresAt
    ) throws -> Envelope {
        var plain = be(createdAt) + be(innerExpiry) + [DirectMessage.contentTypeText]
        plain += Array(text.utf8)
        let nonce = Sodium.randomBytes(24)
        let boxed = try boxer.box(plain, nonce: nonce, to: recipient.boxPublicKey)
        let inner = claimed.bytes + nonce + boxed
        let padded = Sodium.pad(inner, blockSize: 256)
        #expect(padded.count == 256)
        let body = try SealedBox.seal(padded, to: recipient.boxPublicKey)
        return Envelope(kind: .direct, expiresAt: expiresAt, body: body)
    }

    // MARK: - Delivery

    @Test("Alice to Bob opens for Bob with the right sender, text and times")
    func aliceToBob() throws {
        let envelope = try Self.seal("hello Bob, ünïcödé 🚲")
        #expect(envelope.kind == .direct)
        #expect(envelope.expiresAt == Self.expiresAt)
        #expect(envelope.tag.isEmpty)
        let id = EnvelopeID(ofEncoded: envelope.encoded())
        let message = try DirectMessage.open(envelope, id: id, with: Fixture.bob)
        #expect(message.id == id)
        #expect(message.kind == .direct)
        #expect(message.sender == Fixture.alice.publicKey)
        #expect(message.text == "hello Bob, ünïcödé 🚲")
        #expect(message.createdAt == Self.createdAt)
        #expect(message.expiresAt == Self.expiresAt)
        #expect(message.sequence == nil)
    }

    @Test("nothing outside the sealed box names sender or recipient")
    func noMetadataInClear() throws {
        let envelope = try Self.seal("hi")
        let bytes = envelope.encoded()
        for key in [Fixture.alice.publicKey.bytes, Fixture.bob.publicKey.bytes, Fixture.bob.boxPublicKey.bytes] {
            #expect(!bytes.contains(slice: key))
        }
        // Sealing the same text twice gives unrelated bodies (fresh ephemeral key and nonce).
        #expect(try Self.seal("hi").body != envelope.body)
    }

    @Test("Carol cannot open a message for Bob, nor can Alice herself")
    func notForUs() throws {
        let envelope = try Self.seal("for Bob only")
        #expect(throws: MessageError.notForUs) { try Self.open(envelope, with: Fixture.carol) }
        #expect(throws: MessageError.notForUs) { try Self.open(envelope, with: Fixture.alice) }
    }

    @Test("a message to oneself opens")
    func toSelf() throws {
        let envelope = try Self.seal("note to self", from: Fixture.alice, to: Fixture.alice)
        #expect(try Self.open(envelope, with: Fixture.alice).sender == Fixture.alice.publicKey)
    }

    @Test("other envelope kinds are refused")
    func wrongKind() throws {
        var envelope = try Self.seal("hi")
        envelope.kind = .alert
        #expect(throws: MessageError.wrongKind) { try Self.open(envelope) }
    }

    // MARK: - Padding and limits

    @Test("texts of 1 and 100 bytes seal to the same size; a longer text moves to the next bucket")
    func paddingBuckets() throws {
        let one = try Self.seal("a").body.count
        let hundred = try Self.seal(String(repeating: "b", count: 100)).body.count
        #expect(one == hundred)
        #expect(one == 256 + SealedBox.overhead)
        let twoHundred = try Self.seal(String(repeating: "c", count: 200)).body.count
        #expect(twoHundred == 512 + SealedBox.overhead)
    }

    @Test("every sealed size is a power-of-two bucket")
    func bucketSizes() throws {
        for length in [0, 150, 166, 167, 400, 1_000, 5_000, 20_000] {
            let size = try Self.seal(String(repeating: "x", count: length)).body.count - SealedBox.overhead
            #expect(size >= 256 && size & (size - 1) == 0, "\(length) → \(size)")
        }
    }

    @Test("the longest text seals, fits an envelope and opens; one byte more is refused")
    func textLimit() throws {
        let longest = String(repeating: "z", count: MessageLimits.maxTextBytes)
        let envelope = try Self.seal(longest)
        #expect(envelope.body.count <= Envelope.maxBodyBytes)
        #expect(try Self.open(envelope).text == longest)
        let tooLong = longest + "z"
        #expect(throws: MessageError.textTooLong(MessageLimits.maxTextBytes + 1)) { try Self.seal(tooLong) }
        // The limit is in UTF-8 bytes, not characters.
        let wide = String(repeating: "é", count: MessageLimits.maxTextBytes / 2 + 1)
        #expect(throws: MessageError.textTooLong(MessageLimits.maxTextBytes + 2)) { try Self.seal(wide) }
    }

    // MARK: - Forgery and tampering

    @Test("an inner box made by another key than the claimed sender's is a forged sender")
    func forgedSender() throws {
        let forged = try Self.handBuilt(claiming: Fixture.alice.publicKey, boxedBy: Fixture.mallory, to: Fixture.bob)
        #expect(throws: MessageError.forgedSender) { try Self.open(forged) }
        // Control: the same construction by the real sender opens, so the failure above is the forgery.
        let genuine = try Self.handBuilt(claiming: Fixture.alice.publicKey, boxedBy: Fixture.alice, to: Fixture.bob)
        let message = try Self.open(genuine)
        #expect(message.sender == Fixture.alice.publicKey)
        #expect(message.text == "transfer the money")
    }

    @Test("a small-order claimed sender is refused as an invalid key")
    func smallOrderSender() throws {
        for (name, bytes) in smallOrderPoints {
            var inner = bytes + Sodium.randomBytes(24) + [UInt8](repeating: 0, count: 60)
            inner = Sodium.pad(inner, blockSize: 256)
            let body = try SealedBox.seal(inner, to: Fixture.bob.boxPublicKey)
            let envelope = Envelope(kind: .direct, expiresAt: Self.expiresAt, body: body)
            #expect(throws: MessageError.invalidKey, "\(name)") { try Self.open(envelope) }
        }
    }

    @Test("flipping a bit in any byte of the sealed body makes opening fail")
    func flippedBits() throws {
        let envelope = try Self.seal("integrity matters")
        #expect(try Self.open(envelope).text == "integrity matters")  // control
        for position in 0..<envelope.body.count {
            var tampered = envelope
            tampered.body = flippingBit(position * 8 + position % 8, of: envelope.body)
            #expect(throws: MessageError.self, "byte \(position)") { try Self.open(tampered) }
        }
    }

    @Test("a changed outer expires_at is refused as an expiry mismatch")
    func outerExpiryChanged() throws {
        let envelope = try Self.seal("short-lived")
        for delta: Int64 in [1, -1, 86_400] {
            var stretched = envelope
            stretched.expiresAt = UInt64(Int64(envelope.expiresAt) + delta)
            #expect(throws: MessageError.expiryMismatch) { try Self.open(stretched) }
        }
        // An inner expiry that disagrees with the outer one is refused the same way.
        let mismatched = try Self.handBuilt(
            claiming: Fixture.alice.publicKey, boxedBy: Fixture.alice, to: Fixture.bob, innerExpiry: Self.expiresAt + 1)
        #expect(throws: MessageError.expiryMismatch) { try Self.open(mismatched) }
    }

    @Test("bad padding, truncated inner data, bad content type and bad UTF-8 are refused")
    func malformedInner() throws {
        let bob = Fixture.bob.boxPublicKey
        // Not a bucket size.
        let odd = try SealedBox.seal(Sodium.pad([1, 2, 3], blockSize: 100), to: bob)
        #expect(throws: MessageError.badPadding) { try Self.open(Envelope(kind: .direct, expiresAt: 1, body: odd)) }
        // A bucket without the 0x80 marker.
        let unmarked = try SealedBox.seal([UInt8](repeating: 0, count: 256), to: bob)
        #expect(throws: MessageError.badPadding) {
            try Self.open(Envelope(kind: .direct, expiresAt: 1, body: unmarked))
        }
        // Too short to hold sender and nonce.
        let short = try SealedBox.seal(Sodium.pad(Fixture.alice.publicKey.bytes, blockSize: 256), to: bob)
        #expect(throws: MessageError.malformed("inner too short")) {
            try Self.open(Envelope(kind: .direct, expiresAt: 1, body: short))
        }
        // Content type other than text, and invalid UTF-8, through a genuine inner box.
        func custom(_ plain: [UInt8]) throws -> Envelope {
            let nonce = Sodium.randomBytes(24)
            let inner = Fixture.alice.publicKey.bytes + nonce + (try Fixture.alice.box(plain, nonce: nonce, to: bob))
            let body = try SealedBox.seal(Sodium.pad(inner, blockSize: 256), to: bob)
            return Envelope(kind: .direct, expiresAt: Self.expiresAt, body: body)
        }
        let head = be(Self.createdAt) + be(Self.expiresAt)
        #expect(throws: MessageError.malformed("content type 4")) { try Self.open(custom(head + [4, 0x41])) }
        #expect(throws: MessageError.malformed("receipt length")) { try Self.open(custom(head + [3, 0x41])) }
        #expect(throws: MessageError.notUTF8) { try Self.open(custom(head + [1, 0xFF, 0xFE])) }
        #expect(throws: MessageError.malformed("plain too short")) { try Self.open(custom(head)) }
    }
}

extension Array where Element == UInt8 {
    func contains(slice: [UInt8]) -> Bool {
        guard slice.count <= count else { return false }
        return (0...(count - slice.count)).contains { Array(self[$0..<($0 + slice.count)]) == slice }
    }
}
