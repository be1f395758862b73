import Testing

@testable import EstafetteCore

@Suite("ChannelMessage")
struct ChannelMessageTests {
    /// Argon2id at its minimum cost: the tests check the construction, not the cost.
    static func key(_ name: String = "assemblee", _ passphrase: String = "la commune vit") -> ChannelKey {
        ChannelKey.derive(name: name, passphrase: passphrase, opsLimit: 1, memLimit: 8 << 20)!
    }

    static let assemblee = key()

    static func seal(
        _ text: String, from author: SigningKeyPair = Fixture.alice, in key: ChannelKey = assemblee,
        expiresAt: UInt64 = Fixture.expiry
    ) throws -> Envelope {
        try ChannelMessage.seal(
            text: text, from: author, in: key, createdAt: Fixture.nowSeconds, expiresAt: expiresAt)
    }

    static func open(_ envelope: Envelope, with key: ChannelKey = assemblee) throws -> ReceivedMessage {
        try ChannelMessage.open(envelope, id: EnvelopeID(ofEncoded: envelope.encoded()), with: key)
    }

    @Test("a post opens for a member with its author, text, times and channel")
    func roundTrip() throws {
        let e = try Self.seal("rendez-vous place du marché à 18 h")
        #expect(e.kind == .channel)
        #expect(e.tag.count == ChannelKey.tagBytes)
        let m = try Self.open(e, with: Self.key())  // derived again: same name and passphrase, same key
        #expect(m.kind == .channel)
        #expect(m.channel == "assemblee")
        #expect(m.sender == Fixture.alice.publicKey)
        #expect(m.text == "rendez-vous place du marché à 18 h")
        #expect(m.createdAt == Fixture.nowSeconds)
        #expect(m.expiresAt == Fixture.expiry)
        #expect(m.authorNonce.count == 24)
        // The bytes survive the wire codec.
        let decoded = try Envelope(decoding: e.encoded())
        #expect(try Self.open(decoded).text == m.text)
    }

    @Test("a wrong passphrase or another channel's name reads nothing: the tag is not theirs")
    func wrongPassphrase() throws {
        let e = try Self.seal("secret")
        for other in [Self.key("assemblee", "la commune vit!"), Self.key("assemblée", "la commune vit")] {
            #expect(!other.matches(e))
            #expect(throws: MessageError.notForUs) { try Self.open(e, with: other) }
        }
    }

    @Test("the tag changes with the day of expiry and is the same within a day")
    func tagPerDay() throws {
        let day = ChannelKey.periodSeconds
        let base = (Fixture.nowSeconds / day + 1) * day  // a day boundary after now
        let a = try Self.seal("a", expiresAt: base + 60)
        let b = try Self.seal("b", expiresAt: base + 3_600)
        let c = try Self.seal("c", expiresAt: base + day + 60)
        #expect(a.tag == b.tag)
        #expect(a.tag != c.tag)
        #expect(try Self.open(c).text == "c", "a member reads posts of any day")
        #expect(Self.key("other", "la commune vit").tag(period: 1) != Self.assemblee.tag(period: 1))
    }

    @Test("a post whose author is someone else than the signer is refused as forged")
    func forgedAuthor() throws {
        // Mallory is a member and signs a post that names Alice as its author.
        let key = Self.assemblee
        var envelope = Envelope(
            kind: .channel, expiresAt: Fixture.expiry,
            tag: key.tag(period: ChannelKey.period(expiresAt: Fixture.expiry)), body: [])
        let header = envelope.headerBytes()
        let nonce = Sodium.randomBytes(24)
        let content = be(Fixture.nowSeconds) + [DirectMessage.contentTypeText] + Array("pay Mallory".utf8)
        let signature = Fixture.mallory.sign(
            ChannelMessage.domain + header + nonce + Fixture.alice.publicKey.bytes + content)
        let inner = Fixture.alice.publicKey.bytes + signature + content
        envelope.body = nonce + key.body.seal(Sodium.pad(inner, blockSize: 256), nonce: nonce, ad: header)
        #expect(throws: MessageError.forgedSender) { try Self.open(envelope) }
        // The same post signed by Alice herself opens.
        let genuine = Fixture.alice.sign(
            ChannelMessage.domain + header + nonce + Fixture.alice.publicKey.bytes + content)
        envelope.body =
            nonce
            + key.body.seal(
                Sodium.pad(Fixture.alice.publicKey.bytes + genuine + content, blockSize: 256), nonce: nonce, ad: header)
        #expect(try Self.open(envelope).sender == Fixture.alice.publicKey)
    }

    @Test("a post re-sealed by a member under another nonce no longer verifies")
    func resealRefused() throws {
        let e = try Self.seal("once")
        let key = Self.assemblee
        let oldNonce = Array(e.body.prefix(24))
        let padded = try key.body.open(e.body.dropFirst(24), nonce: oldNonce, ad: e.headerBytes())
        let newNonce = Sodium.randomBytes(24)
        var copy = e
        copy.body = newNonce + key.body.seal(padded, nonce: newNonce, ad: e.headerBytes())
        #expect(throws: MessageError.forgedSender) { try Self.open(copy) }
    }

    @Test("a changed header or body is refused: the header is the seal's associated data")
    func tamperedHeader() throws {
        let e = try Self.seal("do not stretch me", expiresAt: Fixture.expiry)
        var later = e
        later.expiresAt += 60  // same day (the fixture expires at 01:00): the tag still matches
        #expect(ChannelKey.period(expiresAt: later.expiresAt) == ChannelKey.period(expiresAt: e.expiresAt))
        #expect(throws: MessageError.channelSeal) { try Self.open(later) }
        var flipped = e
        flipped.body[40] ^= 1
        #expect(throws: MessageError.channelSeal) { try Self.open(flipped) }
        var retagged = e
        retagged.tag[0] ^= 1
        #expect(throws: MessageError.notForUs) { try Self.open(retagged) }
        var short = e
        short.body = Array(e.body.prefix(30))
        #expect(throws: MessageError.malformed("channel body too short")) { try Self.open(short) }
    }

    @Test("bodies are padded to buckets; over-long text is refused")
    func paddingAndLimits() throws {
        let short = try Self.seal("a")
        let longer = try Self.seal(String(repeating: "b", count: 100))
        #expect(short.body.count == longer.body.count)
        #expect(short.body.count == 24 + 256 + 16)
        let max = try Self.seal(String(repeating: "c", count: MessageLimits.maxTextBytes))
        #expect(max.body.count <= Envelope.maxBodyBytes)
        #expect(try Self.open(max).text.utf8.count == MessageLimits.maxTextBytes)
        #expect(throws: MessageError.textTooLong(MessageLimits.maxTextBytes + 1)) {
            try Self.seal(String(repeating: "d", count: MessageLimits.maxTextBytes + 1))
        }
    }

    @Test("an ephemeral post or direct message says so to its reader; an unknown content type is refused")
    func ephemeral() throws {
        let post = try ChannelMessage.seal(
            text: "brûler après lecture", from: Fixture.alice, in: Self.assemblee, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry, ephemeral: true)
        #expect(try Self.open(post).ephemeral)
        #expect(try Self.open(try Self.seal("kept")).ephemeral == false)
        let direct = try DirectMessage.seal(
            text: "soon gone", from: Fixture.alice, to: Fixture.bob.publicKey, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry, ephemeral: true)
        let opened = try DirectMessage.open(direct, id: EnvelopeID(ofEncoded: direct.encoded()), with: Fixture.bob)
        #expect(opened.ephemeral)
        #expect(opened.text == "soon gone")
        // Content type 3 does not exist: a post carrying it is refused, signature and all.
        let key = Self.assemblee
        var envelope = Envelope(
            kind: .channel, expiresAt: Fixture.expiry,
            tag: key.tag(period: ChannelKey.period(expiresAt: Fixture.expiry)), body: [])
        let header = envelope.headerBytes()
        let nonce = Sodium.randomBytes(24)
        let content = be(Fixture.nowSeconds) + [3] + Array("?".utf8)
        let signature = Fixture.alice.sign(
            ChannelMessage.domain + header + nonce + Fixture.alice.publicKey.bytes + content)
        envelope.body =
            nonce
            + key.body.seal(
                Sodium.pad(Fixture.alice.publicKey.bytes + signature + content, blockSize: 256), nonce: nonce,
                ad: header)
        #expect(throws: MessageError.malformed("content type 3")) { try Self.open(envelope) }
    }

    @Test("a node reads its joined channels' posts, carries the others, and stops reading after leaving")
    func meshNodeChannels() throws {
        var alice = MeshNode(identity: Fixture.alice, meshKey: .publicDefault, session: 1, seed: 1)
        var bob = MeshNode(identity: Fixture.bob, meshKey: .publicDefault, session: 2, seed: 2)
        var carol = MeshNode(identity: Fixture.carol, meshKey: .publicDefault, session: 3, seed: 3)
        try alice.joinChannel(Self.assemblee)
        try bob.joinChannel(Self.key())
        try carol.joinChannel(Self.key("assemblee", "wrong"))
        #expect(bob.joinedChannels == ["assemblee"])
        let posted = try alice.postToChannel(
            named: "assemblee", text: "AG ce soir", lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(posted.message?.text == "AG ce soir", "the author is shown its own post")
        #expect(posted.message?.channel == "assemblee")
        let bytes = posted.envelope.bytes
        let atBob = bob.accept(bytes, now: Fixture.now)
        guard case .accepted(_, let m?) = atBob else {
            Issue.record("Bob did not read the post: \(atBob)")
            return
        }
        #expect(m.sender == Fixture.alice.publicKey)
        #expect(m.channel == "assemblee")
        guard case .accepted(_, nil) = carol.accept(bytes, now: Fixture.now) else {
            Issue.record("Carol, with a wrong passphrase, must carry the post without reading it")
            return
        }
        #expect(throws: MeshNode.ChannelPostError.notJoined) {
            try carol.postToChannel(named: "other", text: "x", lifetimeSeconds: 60, now: Fixture.now)
        }
        try bob.leaveChannel(named: "assemblee")
        #expect(throws: MeshNode.ChannelError.notJoined) { try bob.leaveChannel(named: "assemblee") }
        let again = try alice.postToChannel(
            named: "assemblee", text: "encore", lifetimeSeconds: 3_600, now: Fixture.now)
        guard case .accepted(_, nil) = bob.accept(again.envelope.bytes, now: Fixture.now) else {
            Issue.record("Bob left: the post is carried, not read")
            return
        }
    }

    @Test("a forged post with a member's tag is carried, counted and never shown")
    func forgedCarried() throws {
        var bob = MeshNode(identity: Fixture.bob, meshKey: .publicDefault, session: 2, seed: 2)
        try bob.joinChannel(Self.assemblee)
        var e = try Self.seal("x")
        e.body[30] ^= 1
        guard case .accepted(_, nil) = bob.accept(e.encoded(), now: Fixture.now) else {
            Issue.record("a tampered post must be carried, not shown")
            return
        }
        #expect(bob.counters["drop.channel_seal"] == 1)
    }
}
