/// Alerts: signed plaintext that anyone can read and verify. Here non-repudiation is the point.
///
/// ```
/// body = author_pk[32] | seq u64 BE | created_at u64 BE | text_len u16 BE | text | signature[64]
/// signature = Ed25519(author, "estafette/alert/v1" | envelope header | body without signature)
/// ```
/// The envelope header (version, kind, expires_at, tag) is covered, so nobody can change an alert's lifetime.
public enum Alert {
    static let domain = Array("estafette/alert/v1".utf8)
    static let signatureBytes = 64

    public static func sign(
        text: String, by author: SigningKeyPair, sequence: UInt64, createdAt: UInt64, expiresAt: UInt64
    ) throws(MessageError) -> Envelope {
        let textBytes = Array(text.utf8)
        guard textBytes.count <= MessageLimits.maxTextBytes else { throw .textTooLong(textBytes.count) }
        var envelope = Envelope(kind: .alert, expiresAt: expiresAt, body: [])
        var unsigned = author.publicKey.bytes
        unsigned.appendBE(sequence)
        unsigned.appendBE(createdAt)
        unsigned.appendBE(UInt16(textBytes.count))
        unsigned += textBytes
        let signature = author.sign(domain + envelope.headerBytes() + unsigned)
        envelope.body = unsigned + signature
        return envelope
    }

    public static func verify(_ envelope: Envelope, id: EnvelopeID) throws(MessageError) -> ReceivedMessage {
        guard envelope.kind == .alert else { throw .wrongKind }
        guard envelope.body.count >= 32 + 8 + 8 + 2 + signatureBytes else { throw .malformed("alert too short") }
        let unsigned = Array(envelope.body.dropLast(signatureBytes))
        let signature = Array(envelope.body.suffix(signatureBytes))
        var r = ByteReader(unsigned)
        guard let authorBytes = r.read(32), let sequence = r.readU64(), let createdAt = r.readU64(),
            let textLen = r.readU16()
        else { throw .malformed("alert header") }
        guard Int(textLen) <= MessageLimits.maxTextBytes else { throw .textTooLong(Int(textLen)) }
        guard let textBytes = r.read(Int(textLen)), r.remaining == 0 else { throw .malformed("alert text length") }
        let author: SigningPublicKey
        do {
            author = try SigningPublicKey(validating: authorBytes)
        } catch {
            throw .invalidKey
        }
        guard author.verify(signature: signature, message: domain + envelope.headerBytes() + unsigned) else {
            throw .badSignature
        }
        guard let text = String(validating: textBytes, as: UTF8.self) else { throw .notUTF8 }
        return ReceivedMessage(
            id: id, kind: .alert, sender: author, createdAt: createdAt, expiresAt: envelope.expiresAt, text: text,
            sequence: sequence, authorNonce: unsigned[32..<40].map { $0 })
    }
}
