/// A Noise HandshakeState (specification rev 34, §5.3) for `Noise_<pattern>_25519_ChaChaPoly_BLAKE2b`, sans-IO:
/// bytes in, bytes out, no socket and no clock. Estafette's relay links run ``NoisePattern/xk``:
///
/// ```
/// <- s
/// ...
/// -> e, es        message 1, initiator: 32 (e) + payload + 16                     = 48 bytes + payload
/// <- e, ee        message 2, responder: 32 (e) + payload + 16                     = 48 bytes + payload
/// -> s, se        message 3, initiator: 32 + 16 (encrypted s) + payload + 16      = 64 bytes + payload
/// ```
///
/// The caller alternates ``writeMessage(payload:)`` and ``readMessage(_:)`` as ``step`` says; after the last
/// message ``finish()`` hands over the two transport CipherStates. Any error kills the handshake.
public struct NoiseHandshake: Sendable {
    /// Which side of the handshake this is.
    public enum Role: Hashable, Sendable {
        case initiator
        case responder
    }

    /// What the caller must do next.
    public enum Step: Hashable, Sendable {
        /// Call ``NoiseHandshake/writeMessage(payload:)`` and send the result.
        case writeMessage
        /// Wait for the peer's next message and pass it to ``NoiseHandshake/readMessage(_:)``.
        case readMessage
        /// The handshake is over: call ``NoiseHandshake/finish()`` for the transport.
        case complete
        /// The transport has been taken, or the handshake failed: drop this value.
        case done
    }

    enum State: Sendable {
        case running(NoiseSymmetricState)
        case complete(NoiseTransport)
        case finished
        case failed
    }

    public let pattern: NoisePattern
    public let role: Role
    var state: State
    var messageIndex = 0
    let localStatic: NoiseKeyPair?
    var localEphemeral: NoiseKeyPair?
    /// An ephemeral key fixed in advance: only for test vectors, where reusing it is the point.
    var presetEphemeral: NoiseKeyPair?
    var remoteStatic: [UInt8]?
    var remoteEphemeral: [UInt8]?

    /// The full protocol name, which the handshake hash starts from.
    public var protocolName: String { Self.protocolName(pattern) }

    static func protocolName(_ pattern: NoisePattern) -> String {
        "Noise_\(pattern.name)_25519_ChaChaPoly_BLAKE2b"
    }

    /// Starts a handshake (Initialize()). `staticKey` is this side's static key, required exactly when the
    /// pattern uses it; `remoteStaticKey` is the peer's, required exactly when the pattern has it pre-shared
    /// (for XK: the initiator passes the relay's key, the responder passes nothing). Both sides must give the
    /// same `prologue`, or the first encrypted payload fails to decrypt.
    public init(
        pattern: NoisePattern = .xk, role: Role, prologue: [UInt8], staticKey: NoiseKeyPair?,
        remoteStaticKey: [UInt8]?
    ) throws(NoiseError) {
        try self.init(
            pattern: pattern, role: role, prologue: prologue, staticKey: staticKey, remoteStaticKey: remoteStaticKey,
            ephemeralKey: nil)
    }

    /// As the public initialiser, with the ephemeral key fixed in advance. For test vectors only: an ephemeral
    /// key used twice gives the same keys to two sessions.
    init(
        pattern: NoisePattern, role: Role, prologue: [UInt8], staticKey: NoiseKeyPair?, remoteStaticKey: [UInt8]?,
        ephemeralKey: NoiseKeyPair?
    ) throws(NoiseError) {
        let remotePreShared =
            role == .initiator ? pattern.responderStaticIsPreShared : pattern.initiatorStaticIsPreShared
        switch (pattern.usesStaticKey(of: role), staticKey) {
        case (true, nil): throw .missingKey("local static")
        case (false, .some): throw .unexpectedKey("local static")
        case (true, .some), (false, nil): break
        }
        switch (remotePreShared, remoteStaticKey) {
        case (true, nil): throw .missingKey("remote static")
        case (false, .some): throw .unexpectedKey("remote static")
        case (true, .some(let key)):
            guard key.count == NoiseCrypto.dhLength else { throw .invalidKeyLength(key.count) }
        case (false, nil): break
        }
        self.pattern = pattern
        self.role = role
        self.localStatic = staticKey
        self.remoteStatic = remoteStaticKey
        self.presetEphemeral = ephemeralKey

        var symmetric = NoiseSymmetricState(protocolName: Self.protocolName(pattern))
        symmetric.mixHash(prologue)
        // Pre-messages: the initiator's first, then the responder's (§5.3 Initialize()). The keys are there:
        // the checks above require them whenever a pre-message carries them.
        if pattern.initiatorStaticIsPreShared {
            symmetric.mixHash(role == .initiator ? staticKey!.publicKey : remoteStaticKey!)
        }
        if pattern.responderStaticIsPreShared {
            symmetric.mixHash(role == .responder ? staticKey!.publicKey : remoteStaticKey!)
        }
        self.state = .running(symmetric)
    }

    /// What the caller must do next.
    public var step: Step {
        switch state {
        case .running:
            return NoisePattern.isInitiatorMessage(messageIndex) == (role == .initiator) ? .writeMessage : .readMessage
        case .complete: return .complete
        case .finished, .failed: return .done
        }
    }

    /// The peer's static public key: pinned in advance, or learnt from the handshake (for an XK responder,
    /// the initiator's link key, known once the third message has been read).
    public var remoteStaticKey: [UInt8]? { remoteStatic }

    /// h (GetHandshakeHash()): after completion, a value both sides share that identifies this session
    /// (channel binding). Empty once the handshake has failed or handed over its transport.
    public var handshakeHash: [UInt8] {
        switch state {
        case .running(let symmetric): return symmetric.handshakeHash
        case .complete(let transport): return transport.handshakeHash
        case .finished, .failed: return []
        }
    }
}
