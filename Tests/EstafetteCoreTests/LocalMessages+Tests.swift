import Testing

@testable import EstafetteCore

/// Envelopes made by the node itself: what the core decides for the shell (numbering, expiry, trial decryption,
/// what to do once stored) and for a node with several interfaces.
@Suite("Local messages and interfaces")
struct LocalMessagesTests {
    static func node(_ identity: SigningKeyPair = Fixture.alice) -> MeshNode {
        MeshNode(identity: identity, meshKey: .publicDefault, session: 0xA11CE, seed: 1)
    }

    @Test("alerts are numbered after the last one in the store; a refused alert uses no number")
    func alertSequence() throws {
        var node = Self.node()
        node.resumeAlerts(after: 41)
        let first = try node.postAlert(text: "one", lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(first.message?.sequence == 42, "the author is shown its own alert")
        #expect(first.message?.text == "one")
        let tooLong = String(repeating: "x", count: MessageLimits.maxTextBytes + 1)
        #expect(throws: MeshNode.LocalMessageError.message(.textTooLong(MessageLimits.maxTextBytes + 1))) {
            try node.postAlert(text: tooLong, lifetimeSeconds: 3_600, now: Fixture.now)
        }
        let second = try node.postAlert(text: "two", lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(second.message?.sequence == 43)
    }

    @Test("a message made here expires on the minute at or before its lifetime's end")
    func expiryRounded() throws {
        var node = Self.node()
        let now = Fixture.now + 59_999  // 59.999 s past a whole minute
        let alert = try node.postAlert(text: "soon", lifetimeSeconds: 3_600, now: now)
        #expect(alert.envelope.expiresAt == Fixture.nowSeconds + 3_600)
        #expect(alert.message?.createdAt == Fixture.nowSeconds + 59)
        #expect(Envelope.expiry(createdAt: 119, lifetimeSeconds: 60) == 120)
        #expect(Envelope.expiry(createdAt: 120, lifetimeSeconds: 60) == 180)
    }

    @Test("a direct message to someone else is not opened here; one to ourselves is delivered to us")
    func directMessages() throws {
        var node = Self.node()
        let toBob = try node.sendDirect(
            text: "hi bob", to: Fixture.bob.publicKey.bytes, lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(toBob.message == nil)
        #expect(toBob.envelope.kind == .direct)
        let toSelf = try node.sendDirect(
            text: "note", to: Fixture.alice.publicKey.bytes, lifetimeSeconds: 3_600, now: Fixture.now)
        #expect(toSelf.message?.text == "note")
        #expect(toSelf.message?.sender == Fixture.alice.publicKey)
        #expect(node.counters["messages_delivered"] == 1)
        #expect(throws: MeshNode.LocalMessageError.invalidRecipient) {
            try node.sendDirect(
                text: "x", to: [UInt8](repeating: 0, count: 31), lifetimeSeconds: 3_600, now: Fixture.now)
        }
    }

    @Test("a submission says what to store, and what to send only once it is stored")
    func submissionOrder() throws {
        var node = Self.node()
        let s = try node.submit(MeshNodeTests.carried(1), now: Fixture.now)
        #expect(s.actions.first == .store(s.envelope, message: nil))
        #expect(s.afterStore.count == 1)
        guard case .multicast(let datagram, nil) = s.afterStore.first else {
            Issue.record("expected the envelope's multicast after the store, got \(s.afterStore)")
            return
        }
        #expect(try MeshNodeTests.open(datagram) == .envelope(s.envelope.bytes))
        #expect(throws: MeshNode.SubmitError(reason: "duplicate")) {
            try node.submit(MeshNodeTests.carried(1), now: Fixture.now)
        }
    }

    @Test("a node bridges its interfaces exactly while it has more than one")
    func bridging() throws {
        var node = Self.node(Fixture.bob)
        let datagram = MeshKey.publicDefault.seal(.envelope(MeshNodeTests.carried(1).encoded()), session: 9)
        let from = PeerAddress(host: "10.0.0.2", port: 4_545, interface: 1)
        #expect(!node.bridgesInterfaces)
        node.interfacesChanged(count: 2)
        #expect(node.bridgesInterfaces)
        #expect(MeshNodeTests.multicasts(node.receive(datagram, from: from, now: Fixture.now)).count == 1)
        node.interfacesChanged(count: 1)
        #expect(!node.bridgesInterfaces)
        let other = MeshKey.publicDefault.seal(.envelope(MeshNodeTests.carried(2).encoded()), session: 9)
        #expect(MeshNodeTests.multicasts(node.receive(other, from: from, now: Fixture.now)).isEmpty)
    }
}
