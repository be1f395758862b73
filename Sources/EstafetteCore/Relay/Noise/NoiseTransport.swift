/// The two CipherStates a finished handshake splits into: one to encrypt what this side sends, one to decrypt
/// what it receives. Each transport message is `ciphertext || 16-byte tag` of at most 65535 bytes, so a
/// plaintext holds at most 65519 bytes; the associated data is empty and the nonces count up from 0 in each
/// direction independently.
public struct NoiseTransport: Sendable {
    /// The longest plaintext one transport message can carry.
    public static let maxPlaintextLength = NoiseCrypto.maxMessageLength - NoiseCrypto.tagLength

    private var sending: NoiseCipherState
    private var receiving: NoiseCipherState
    /// The handshake hash of the session (channel binding): equal on both sides.
    public let handshakeHash: [UInt8]

    init(sending: NoiseCipherState, receiving: NoiseCipherState, handshakeHash: [UInt8]) {
        self.sending = sending
        self.receiving = receiving
        self.handshakeHash = handshakeHash
    }

    /// The nonce of the next message this side sends (the number of messages sent so far).
    public var sendingNonce: UInt64 { sending.nonce }
    /// The nonce of the next message this side expects (the number of messages received so far).
    public var receivingNonce: UInt64 { receiving.nonce }

    /// Encrypts one transport message. Throws ``NoiseError/messageTooLong(_:)`` for more than
    /// ``maxPlaintextLength`` bytes and ``NoiseError/nonceExhausted`` after 2^64 - 1 messages.
    public mutating func encrypt(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        try sending.encrypt(plaintext)
    }

    /// Decrypts one transport message. Messages must arrive in order, each exactly once (TCP gives that):
    /// a replayed, reordered, truncated or altered message throws ``NoiseError/decryptionFailed`` (or
    /// ``NoiseError/messageTooShort(_:_:)``) and leaves the nonce where it was.
    public mutating func decrypt(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        try receiving.decrypt(message)
    }

    /// Rekey() of the sending direction; the peer must call ``rekeyReceiving()`` at the same point.
    public mutating func rekeySending() { sending.rekey() }

    /// Rekey() of the receiving direction.
    public mutating func rekeyReceiving() { receiving.rekey() }

    /// For tests of nonce exhaustion only.
    mutating func setNonces(sending s: UInt64, receiving r: UInt64) {
        sending.setNonce(s)
        receiving.setNonce(r)
    }
}
