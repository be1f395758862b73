extension NoiseHandshake {
    /// WriteMessage(payload): the next handshake message, carrying `payload` (encrypted once a DH has been
    /// mixed in, which for XK is every message). Throws ``NoiseError/outOfTurn(_:)`` when the peer must send,
    /// and ``NoiseError/messageTooLong(_:)`` (without harming the handshake) when the message would pass 65535
    /// bytes.
    public mutating func writeMessage(payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        var symmetric = try runningState(for: .writeMessage)
        let tokens = pattern.messages[messageIndex]
        let length = Self.messageLength(tokens, payload: payload.count, keyed: symmetric.cipher.hasKey)
        guard length <= NoiseCrypto.maxMessageLength else { throw .messageTooLong(length) }
        do throws(NoiseError) {
            var message: [UInt8] = []
            message.reserveCapacity(length)
            for token in tokens {
                switch token {
                case .e:
                    let ephemeral = presetEphemeral ?? NoiseKeyPair.generate()
                    presetEphemeral = nil
                    localEphemeral = ephemeral
                    message += ephemeral.publicKey
                    symmetric.mixHash(ephemeral.publicKey)
                case .s:
                    message += try symmetric.encryptAndHash(localStatic!.publicKey)
                case .ee, .es, .se, .ss:
                    try mixDH(token, into: &symmetric)
                }
            }
            message += try symmetric.encryptAndHash(payload)
            advance(symmetric)
            return message
        } catch {
            fail()
            throw error
        }
    }

    /// ReadMessage(message): the payload of the peer's next handshake message. Throws on a message that is
    /// too short or too long, a tag that does not verify (wrong static key, different prologue, tampering),
    /// or a degenerate public key; the handshake is then dead.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        var symmetric = try runningState(for: .readMessage)
        do throws(NoiseError) {
            guard message.count <= NoiseCrypto.maxMessageLength else { throw .messageTooLong(message.count) }
            var rest = message[...]
            for token in pattern.messages[messageIndex] {
                switch token {
                case .e:
                    let key = try Self.take(NoiseCrypto.dhLength, from: &rest, field: "e")
                    remoteEphemeral = key
                    symmetric.mixHash(key)
                case .s:
                    let count = NoiseCrypto.dhLength + (symmetric.cipher.hasKey ? NoiseCrypto.tagLength : 0)
                    let field = try Self.take(count, from: &rest, field: "s")
                    remoteStatic = try symmetric.decryptAndHash(field)
                case .ee, .es, .se, .ss:
                    try mixDH(token, into: &symmetric)
                }
            }
            let payload = try symmetric.decryptAndHash(Array(rest))
            advance(symmetric)
            return payload
        } catch {
            fail()
            throw error
        }
    }

    /// Hands over the transport once the last message has been written or read; the handshake is then done.
    public mutating func finish() throws(NoiseError) -> NoiseTransport {
        switch state {
        case .complete(let transport):
            state = .finished
            return transport
        case .running: throw .handshakeNotComplete
        case .finished: throw .outOfTurn("transport already taken")
        case .failed: throw .handshakeFailed
        }
    }

    // MARK: Internals

    /// The symmetric state, if the handshake is running and it is this side's turn to do `step`.
    private func runningState(for step: Step) throws(NoiseError) -> NoiseSymmetricState {
        switch state {
        case .running(let symmetric):
            guard self.step == step else {
                throw .outOfTurn(step == .writeMessage ? "peer's turn to send" : "our turn to send")
            }
            return symmetric
        case .complete, .finished: throw .outOfTurn("handshake already complete")
        case .failed: throw .handshakeFailed
        }
    }

    /// The bytes a message of `tokens` takes with a payload of `payload` bytes.
    private static func messageLength(_ tokens: [NoisePattern.Token], payload: Int, keyed: Bool) -> Int {
        var keyed = keyed
        var length = 0
        for token in tokens {
            switch token {
            case .e: length += NoiseCrypto.dhLength
            case .s: length += NoiseCrypto.dhLength + (keyed ? NoiseCrypto.tagLength : 0)
            case .ee, .es, .se, .ss: keyed = true
            }
        }
        return length + payload + (keyed ? NoiseCrypto.tagLength : 0)
    }

    /// MixKey(DH(…)) for a DH token, with the keys the token names for this role (§5.3).
    private func mixDH(_ token: NoisePattern.Token, into symmetric: inout NoiseSymmetricState) throws(NoiseError) {
        let initiator = role == .initiator
        let local: NoiseKeyPair?
        let remote: [UInt8]?
        switch token {
        case .ee: (local, remote) = (localEphemeral, remoteEphemeral)
        case .es: (local, remote) = initiator ? (localEphemeral, remoteStatic) : (localStatic, remoteEphemeral)
        case .se: (local, remote) = initiator ? (localStatic, remoteEphemeral) : (localEphemeral, remoteStatic)
        case .ss: (local, remote) = (localStatic, remoteStatic)
        case .e, .s: preconditionFailure("mixDH called with the non-DH token \(token)")
        }
        guard let local, let remote else {
            preconditionFailure("pattern \(pattern) uses \(token) before its keys exist (message \(messageIndex))")
        }
        var shared = try NoiseCrypto.dh(local.secretKey, remote)
        symmetric.mixKey(shared)
        NoiseCrypto.wipe(&shared)
    }

    /// Moves to the next message; after the last one, Split() into the transport.
    private mutating func advance(_ symmetric: NoiseSymmetricState) {
        messageIndex += 1
        guard messageIndex == pattern.messages.count else {
            state = .running(symmetric)
            return
        }
        let (i2r, r2i) = symmetric.split()
        let transport =
            role == .initiator
            ? NoiseTransport(sending: i2r, receiving: r2i, handshakeHash: symmetric.handshakeHash)
            : NoiseTransport(sending: r2i, receiving: i2r, handshakeHash: symmetric.handshakeHash)
        state = .complete(transport)
        localEphemeral = nil
        remoteEphemeral = nil
    }

    private mutating func fail() {
        state = .failed
        localEphemeral = nil
        presetEphemeral = nil
    }

    /// The first `count` bytes of `rest`, removed from it.
    private static func take(_ count: Int, from rest: inout ArraySlice<UInt8>, field: String) throws(NoiseError)
        -> [UInt8]
    {
        guard rest.count >= count else { throw .messageTooShort(field, rest.count) }
        defer { rest = rest.dropFirst(count) }
        return Array(rest.prefix(count))
    }
}
