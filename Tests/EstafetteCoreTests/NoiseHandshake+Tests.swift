import Testing

@testable import EstafetteCore

@Suite("Noise XK handshake")
struct NoiseHandshakeTests {
    static let relay = SigningKeyPair.deterministic(10)
    static let linkKey = NoiseKeyPair.generate()

    /// A relay link about to start: the node pins the relay's identity.
    static func link(pinning pin: SigningPublicKey = relay.publicKey) throws -> (NoiseHandshake, NoiseHandshake) {
        (
            try NoiseHandshake.relayInitiator(linkKey: linkKey, relay: pin),
            NoiseHandshake.relayResponder(identity: relay)
        )
    }

    /// The three messages of a handshake with the given payloads, checked as they go.
    static func messages(_ payloads: [[UInt8]] = [[], [], []]) throws -> [[UInt8]] {
        var (i, r) = try link()
        let m1 = try i.writeMessage(payload: payloads[0])
        #expect(try r.readMessage(m1) == payloads[0])
        let m2 = try r.writeMessage(payload: payloads[1])
        #expect(try i.readMessage(m2) == payloads[1])
        let m3 = try i.writeMessage(payload: payloads[2])
        #expect(try r.readMessage(m3) == payloads[2])
        return [m1, m2, m3]
    }

    @Test func relayLinkCompletesWithMessagesOf48_48_64BytesPlusPayloads() throws {
        #expect(NoiseHandshake.relayProtocolName == "Noise_XK_25519_ChaChaPoly_BLAKE2b")
        #expect(try Self.messages().map(\.count) == [48, 48, 64])
        #expect(try Self.messages([[1], [2, 2], [3, 3, 3]]).map(\.count) == [49, 50, 67])
    }

    @Test func stepsAlternateAndTheRelayLearnsTheLinkKeyLast() throws {
        var (i, r) = try Self.link()
        #expect(i.step == .writeMessage && r.step == .readMessage)
        #expect(i.remoteStaticKey == Self.relay.boxPublicKey.bytes)
        #expect(r.remoteStaticKey == nil)
        _ = try r.readMessage(try i.writeMessage(payload: Array("hello".utf8)))
        #expect(i.step == .readMessage && r.step == .writeMessage)
        _ = try i.readMessage(try r.writeMessage())
        #expect(r.remoteStaticKey == nil, "the link key travels only in the third message")
        _ = try r.readMessage(try i.writeMessage())
        #expect(i.step == .complete && r.step == .complete)
        #expect(r.remoteStaticKey == Self.linkKey.publicKey)
        #expect(i.handshakeHash == r.handshakeHash && i.handshakeHash.count == 64)

        var it = try i.finish()
        var rt = try r.finish()
        #expect(i.step == .done)
        #expect(throws: NoiseError.outOfTurn("transport already taken")) { try i.finish() }
        #expect(it.handshakeHash == rt.handshakeHash)
        #expect(try rt.decrypt(try it.encrypt([1, 2, 3])) == [1, 2, 3])
        #expect(try it.decrypt(try rt.encrypt([4])) == [4])
    }

    @Test func twoSessionsWithTheSameKeysShareNothing() throws {
        let a = try Self.messages()
        let b = try Self.messages()
        for k in 0..<3 { #expect(a[k] != b[k], "fresh ephemeral keys make message \(k + 1) differ") }
    }

    @Test func wrongRelayKeyFailsAtTheFirstMessage() throws {
        var (i, r) = try Self.link(pinning: SigningKeyPair.deterministic(666).publicKey)
        let m1 = try i.writeMessage()
        #expect(throws: NoiseError.decryptionFailed) { try r.readMessage(m1) }
        #expect(r.step == .done)
        #expect(throws: NoiseError.handshakeFailed) { try r.writeMessage() }
        #expect(throws: NoiseError.handshakeFailed) { try r.finish() }
    }

    @Test func differentProloguesFailAtTheFirstMessage() throws {
        var i = try NoiseHandshake(
            role: .initiator, prologue: Array("estafette-relay/2".utf8), staticKey: Self.linkKey,
            remoteStaticKey: Self.relay.boxPublicKey.bytes)
        var r = NoiseHandshake.relayResponder(identity: Self.relay)
        #expect(throws: NoiseError.decryptionFailed) { try r.readMessage(try i.writeMessage()) }
    }

    @Test(arguments: 0..<3)
    func everyTamperedByteIsRejected(message index: Int) throws {
        let payloads: [[UInt8]] = [[7, 7], [8], [9, 9, 9]]
        var (i, r) = try Self.link()
        var transcript: [[UInt8]] = []
        for k in 0..<index {
            let writerIsInitiator = k % 2 == 0
            let m =
                writerIsInitiator ? try i.writeMessage(payload: payloads[k]) : try r.writeMessage(payload: payloads[k])
            _ = writerIsInitiator ? try r.readMessage(m) : try i.readMessage(m)
            transcript.append(m)
        }
        let message =
            index % 2 == 0 ? try i.writeMessage(payload: payloads[index]) : try r.writeMessage(payload: payloads[index])
        let reader = index % 2 == 0 ? r : i
        for byte in message.indices {
            for bit in [0, 7] {
                var copy = reader
                #expect(throws: NoiseError.decryptionFailed, "message \(index + 1), byte \(byte), bit \(bit)") {
                    try copy.readMessage(flippingBit(byte * 8 + bit, of: message))
                }
            }
        }
        var copy = reader
        #expect(try copy.readMessage(message) == payloads[index], "the untouched message still reads")
    }

    @Test func truncatedAndOverlongMessagesAreTypedErrors() throws {
        var (i, r) = try Self.link()
        let m1 = try i.writeMessage()
        var a = r
        #expect(throws: NoiseError.messageTooShort("e", 31)) { try a.readMessage(Array(m1.prefix(31))) }
        var b = r
        #expect(throws: NoiseError.messageTooShort("ciphertext", 15)) { try b.readMessage(Array(m1.prefix(47))) }
        var c = r
        #expect(throws: NoiseError.messageTooLong(65536)) {
            try c.readMessage(m1 + [UInt8](repeating: 0, count: 65536 - 48))
        }
        var d = r
        #expect(throws: NoiseError.messageTooShort("e", 0)) { try d.readMessage([]) }
        #expect(try r.readMessage(m1) == [])
        _ = try i.readMessage(try r.writeMessage())
        let m3 = try i.writeMessage()
        #expect(throws: NoiseError.messageTooShort("s", 47)) { try r.readMessage(Array(m3.prefix(47))) }
    }

    @Test func aPayloadTooLargeIsRefusedWithoutHarm() throws {
        var (i, r) = try Self.link()
        #expect(throws: NoiseError.messageTooLong(65536)) {
            try i.writeMessage(payload: [UInt8](repeating: 1, count: 65535 - 48 + 1))
        }
        #expect(i.step == .writeMessage)
        let largest = [UInt8](repeating: 2, count: 65535 - 48)
        let m1 = try i.writeMessage(payload: largest)
        #expect(m1.count == 65535)
        #expect(try r.readMessage(m1) == largest)
    }

    @Test func outOfTurnCallsAreRefusedWithoutHarm() throws {
        var (i, r) = try Self.link()
        #expect(throws: NoiseError.outOfTurn("peer's turn to send")) { try r.writeMessage() }
        #expect(throws: NoiseError.outOfTurn("our turn to send")) {
            try i.readMessage([UInt8](repeating: 0, count: 48))
        }
        #expect(throws: NoiseError.handshakeNotComplete) { try i.finish() }
        _ = try r.readMessage(try i.writeMessage())
        _ = try i.readMessage(try r.writeMessage())
        _ = try r.readMessage(try i.writeMessage())
        #expect(throws: NoiseError.outOfTurn("handshake already complete")) { try i.writeMessage() }
        #expect(try r.finish().handshakeHash == i.handshakeHash)
    }

    @Test func smallOrderKeysAreRejected() throws {
        let zero = [UInt8](repeating: 0, count: 32)
        var pinnedZero = try NoiseHandshake(
            role: .initiator, prologue: NoiseHandshake.relayPrologue, staticKey: Self.linkKey, remoteStaticKey: zero)
        #expect(throws: NoiseError.invalidPublicKey) { try pinnedZero.writeMessage() }
        #expect(pinnedZero.step == .done)

        // A first message whose ephemeral key is zero: the relay's es DH gives zero.
        var r = NoiseHandshake.relayResponder(identity: Self.relay)
        #expect(throws: NoiseError.invalidPublicKey) { try r.readMessage(zero + [UInt8](repeating: 0, count: 16)) }
    }

    @Test func keysThePatternDoesNotUseOrNeedsAreChecked() throws {
        let relayKey = Self.relay.boxPublicKey.bytes
        #expect(throws: NoiseError.missingKey("local static")) {
            try NoiseHandshake(role: .initiator, prologue: [], staticKey: nil, remoteStaticKey: relayKey)
        }
        #expect(throws: NoiseError.missingKey("remote static")) {
            try NoiseHandshake(role: .initiator, prologue: [], staticKey: Self.linkKey, remoteStaticKey: nil)
        }
        #expect(throws: NoiseError.unexpectedKey("remote static")) {
            try NoiseHandshake(role: .responder, prologue: [], staticKey: Self.linkKey, remoteStaticKey: relayKey)
        }
        #expect(throws: NoiseError.unexpectedKey("local static")) {
            try NoiseHandshake(
                pattern: .nn, role: .initiator, prologue: [], staticKey: Self.linkKey, remoteStaticKey: nil)
        }
        #expect(throws: NoiseError.invalidKeyLength(31)) {
            try NoiseHandshake(
                role: .initiator, prologue: [], staticKey: Self.linkKey, remoteStaticKey: Array(relayKey.prefix(31)))
        }
    }
}
