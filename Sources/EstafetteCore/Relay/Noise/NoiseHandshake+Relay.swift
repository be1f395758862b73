/// Estafette's relay links (DESIGN §5, docs/relays-noise.md): `Noise_XK_25519_ChaChaPoly_BLAKE2b` with the
/// prologue `estafette-relay/1`. The relay's static key is the X25519 form of its Ed25519 identity, so its
/// `es1…` ID is the pin; the initiator's static key is its separate link key, which the relay learns from the
/// third message.
extension NoiseHandshake {
    /// The prologue both sides mix in first: the ASCII bytes of `estafette-relay/1`. A peer speaking another
    /// version fails at the first message's tag.
    public static let relayPrologue: [UInt8] = Array("estafette-relay/1".utf8)

    /// The protocol name of relay links.
    public static let relayProtocolName = protocolName(.xk)

    /// The side that links out: a node with its link key, pinning the relay by its identity.
    /// Throws ``NoiseError/invalidPublicKey`` if the identity has no X25519 form.
    public static func relayInitiator(linkKey: NoiseKeyPair, relay: SigningPublicKey) throws(NoiseError)
        -> NoiseHandshake
    {
        let relayKey: BoxPublicKey
        do {
            relayKey = try relay.boxPublicKey()
        } catch {
            throw .invalidPublicKey
        }
        return try NoiseHandshake(
            pattern: .xk, role: .initiator, prologue: relayPrologue, staticKey: linkKey,
            remoteStaticKey: relayKey.bytes)
    }

    /// The relay's side, with the static key derived from its identity.
    public static func relayResponder(identity: SigningKeyPair) -> NoiseHandshake {
        do {
            return try NoiseHandshake(
                pattern: .xk, role: .responder, prologue: relayPrologue, staticKey: NoiseKeyPair(identity: identity),
                remoteStaticKey: nil)
        } catch {
            preconditionFailure("an XK responder with its static key cannot fail to start: \(error)")
        }
    }
}
