import EstafetteCore
import EstafetteTestKit
import Foundation

/// Shared fixtures for the shell's tests: deterministic keys, real signed and sealed messages, scratch files.
enum Fixture {
    static let alice = SigningKeyPair.deterministic(1)
    static let bob = SigningKeyPair.deterministic(2)
    static let carol = SigningKeyPair.deterministic(3)

    /// Unix seconds, 2024-01-01T00:00:00Z, and an expiry an hour later.
    static let now: UInt64 = 1_704_067_200
    static let expiry: UInt64 = now + 3600

    static func id(_ keys: SigningKeyPair) -> String { PublicID(key: keys.publicKey).description }

    /// A signed alert as the store receives it: the envelope and the message it verified to.
    static func alert(
        _ text: String, by author: SigningKeyPair = alice, sequence: UInt64 = 1, expiresAt: UInt64 = expiry
    ) throws -> (StoredEnvelope, ReceivedMessage) {
        let e = try Alert.sign(text: text, by: author, sequence: sequence, createdAt: now, expiresAt: expiresAt)
        let stored = stored(e)
        return (stored, try Alert.verify(e, id: stored.id))
    }

    /// A sealed direct message from `sender` to `recipient`, opened with the recipient's key.
    static func direct(
        _ text: String, from sender: SigningKeyPair = alice, to recipient: SigningKeyPair = bob,
        expiresAt: UInt64 = expiry
    ) throws -> (StoredEnvelope, ReceivedMessage) {
        let e = try DirectMessage.seal(
            text: text, from: sender, to: recipient.publicKey, createdAt: now, expiresAt: expiresAt)
        let stored = stored(e)
        return (stored, try DirectMessage.open(e, id: stored.id, with: recipient))
    }

    /// A relayed envelope this node cannot read (a channel envelope with a random body).
    static func opaque(expiresAt: UInt64 = expiry, size: Int = 300) -> StoredEnvelope {
        stored(Envelope(kind: .channel, expiresAt: expiresAt, body: Sodium.randomBytes(size)))
    }

    static func stored(_ e: Envelope) -> StoredEnvelope {
        let bytes = e.encoded()
        return StoredEnvelope(id: EnvelopeID(ofEncoded: bytes), kind: e.kind, expiresAt: e.expiresAt, bytes: bytes)
    }
}

/// Runs `body` with a fresh scratch directory, removed afterwards however `body` ends.
func withScratchDir<T>(_ label: String, _ body: (String) async throws -> T) async throws -> T {
    let dir = try makeScratchDir(label)
    defer { removeScratchDir(dir) }
    return try await body(dir)
}

/// The permission bits of a file.
func mode(of path: String) throws -> Int {
    let attrs = try FileManager.default.attributesOfItem(atPath: path)
    return (attrs[.posixPermissions] as? NSNumber)?.intValue ?? -1
}
