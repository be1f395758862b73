/// Direct messages: two layers, so nothing outside the box names sender or recipient.
///
/// ```
/// body  = crypto_box_seal(recipient_x25519, pad(inner, bucket))
/// inner = sender_pk[32] | nonce[24] | crypto_box_easy(plain, nonce, recipient_x25519, sender_x25519_sk)
/// plain = created_at u64 BE | expires_at u64 BE | content_type u8 | content
/// ```
/// Content types: 1 = UTF-8 text, 2 = ephemeral UTF-8 text, 3 = delivery receipt (the content is the 32-byte ID of
/// the envelope it acknowledges). A receipt is sealed exactly as a text is, and its inner part (121 bytes) falls in
/// the smallest bucket with every text up to 166 bytes: a carrier cannot tell it from a short message.
/// The inner box authenticates the sender to the recipient deniably: only the holders of either secret key can
/// make it, so the recipient knows it is genuine but cannot prove it to anyone else. `expires_at` inside must equal
/// the envelope's, so no relay can stretch a message's life. Buckets are powers of two from 256 to 32768 bytes.
///
/// Every other header byte is fixed: version 1 and kind 1 (checked by decoding and by `open`), and no tag. A tag
/// is the only header field the sealed body does not determine, so a direct message with one is refused by every
/// node (`drop.direct_tag`, see `headerCheck`): a carrier cannot give one message a second ID.
public enum DirectMessage {
    static let contentTypeText: UInt8 = 1
    /// UTF-8 text that its author asked to vanish from the recipient's inbox once it expires.
    static let contentTypeEphemeralText: UInt8 = 2
    /// A delivery receipt: the content is the 32-byte ID of the direct message's envelope it acknowledges.
    static let contentTypeReceipt: UInt8 = 3

    /// The content type of text, ephemeral or not; nil for an unknown one.
    static func contentType(ephemeral: Bool) -> UInt8 { ephemeral ? contentTypeEphemeralText : contentTypeText }
    static func isEphemeral(contentType: UInt8) -> Bool? {
        switch contentType {
        case contentTypeText: return false
        case contentTypeEphemeralText: return true
        default: return nil
        }
    }
    static let nonceBytes = 24
    static let minBucket = 256
    static let maxBucket = 32 * 1024

    static func bucket(for length: Int) -> Int? {
        var b = minBucket
        while b <= maxBucket {
            if length < b { return b }
            b *= 2
        }
        return nil
    }

    /// Builds a sealed direct-message envelope.
    public static func seal(
        text: String, from sender: SigningKeyPair, to recipient: SigningPublicKey, createdAt: UInt64,
        expiresAt: UInt64, ephemeral: Bool = false
    ) throws(MessageError) -> Envelope {
        var cache = KeyCache(capacity: 1, sharedKeyCapacity: 0)
        return try seal(
            text: text, from: sender, to: recipient, createdAt: createdAt, expiresAt: expiresAt, ephemeral: ephemeral,
            keys: &cache)
    }

    /// As `seal(text:from:to:createdAt:expiresAt:)`, converting the recipient's key through `keys` and boxing with
    /// the pair's precomputed key from `keys.shared`.
    public static func seal(
        text: String, from sender: SigningKeyPair, to recipient: SigningPublicKey, createdAt: UInt64,
        expiresAt: UInt64, ephemeral: Bool = false, keys: inout KeyCache
    ) throws(MessageError) -> Envelope {
        let textBytes = Array(text.utf8)
        guard textBytes.count <= MessageLimits.maxTextBytes else { throw .textTooLong(textBytes.count) }
        return try seal(
            content: textBytes, type: contentType(ephemeral: ephemeral), from: sender, to: recipient,
            createdAt: createdAt, expiresAt: expiresAt, keys: &keys)
    }

    /// A delivery receipt from `sender` (the recipient of the message `acknowledged`) to that message's sender:
    /// a direct message of content type 3 whose content is the acknowledged envelope's ID.
    public static func sealReceipt(
        for acknowledged: EnvelopeID, from sender: SigningKeyPair, to recipient: SigningPublicKey, createdAt: UInt64,
        expiresAt: UInt64, keys: inout KeyCache
    ) throws(MessageError) -> Envelope {
        try seal(
            content: acknowledged.bytes, type: contentTypeReceipt, from: sender, to: recipient, createdAt: createdAt,
            expiresAt: expiresAt, keys: &keys)
    }

    static func seal(
        content: [UInt8], type: UInt8, from sender: SigningKeyPair, to recipient: SigningPublicKey,
        createdAt: UInt64, expiresAt: UInt64, keys: inout KeyCache
    ) throws(MessageError) -> Envelope {
        var plain: [UInt8] = []
        plain.reserveCapacity(17 + content.count)
        plain.appendBE(createdAt)
        plain.appendBE(expiresAt)
        plain.append(type)
        plain += content
        let recipientX: BoxPublicKey
        do {
            recipientX = try keys.resolve(recipient).box
        } catch {
            throw .invalidKey
        }
        let nonce = Sodium.randomBytes(nonceBytes)
        let boxed: [UInt8]
        do {
            boxed = try keys.shared.box(plain, nonce: nonce, from: sender, to: recipientX)
        } catch {
            throw .invalidKey
        }
        let inner = sender.publicKey.bytes + nonce + boxed
        guard let bucket = bucket(for: inner.count) else { throw .textTooLong(content.count) }
        let padded = Sodium.pad(inner, blockSize: bucket)
        let body: [UInt8]
        do {
            body = try SealedBox.seal(padded, to: recipientX)
        } catch {
            throw .invalidKey
        }
        return Envelope(kind: .direct, expiresAt: expiresAt, body: body)
    }

    /// Whether a direct envelope's header is the one its author made: the tag must be empty. Costs no crypto, so
    /// every carrier checks it before anything else.
    public static func headerCheck(_ envelope: Envelope) throws(MessageError) {
        guard envelope.kind == .direct else { throw .wrongKind }
        guard envelope.tag.isEmpty else { throw .directTag }
    }

    /// Opens a direct-message envelope with this node's key.
    /// Throws `.notForUs` when the outer box does not open (the common case: someone else's message).
    public static func open(_ envelope: Envelope, id: EnvelopeID, with me: SigningKeyPair) throws(MessageError)
        -> ReceivedMessage
    {
        var cache = KeyCache(capacity: 1, sharedKeyCapacity: 0)
        return try open(envelope, id: id, with: me, keys: &cache)
    }

    /// As `open(_:id:with:)`, validating and converting the sender's key through `keys` and opening the inner box
    /// with the pair's precomputed key from `keys.shared`.
    public static func open(
        _ envelope: Envelope, id: EnvelopeID, with me: SigningKeyPair, keys: inout KeyCache
    ) throws(MessageError) -> ReceivedMessage {
        try headerCheck(envelope)
        let padded: [UInt8]
        do {
            padded = try me.openSealed(envelope.body)
        } catch {
            throw .notForUs
        }
        guard padded.count >= minBucket, padded.count <= maxBucket, padded.count & (padded.count - 1) == 0,
            let inner = Sodium.unpad(padded, blockSize: padded.count)
        else { throw .badPadding }
        var r = ByteReader(inner)
        guard let senderBytes = r.read(SigningPublicKey.byteCount), let nonce = r.read(nonceBytes) else {
            throw .malformed("inner too short")
        }
        let boxed = r.rest()
        let sender: SigningPublicKey
        let senderX: BoxPublicKey
        do {
            let entry = try keys.resolve(senderBytes)
            sender = entry.key
            senderX = entry.box
        } catch {
            throw .invalidKey
        }
        let plain: [UInt8]
        do {
            plain = try keys.shared.openBox(boxed, nonce: nonce, from: senderX, to: me)
        } catch {
            throw .forgedSender
        }
        var p = ByteReader(plain)
        guard let createdAt = p.readU64(), let innerExpiry = p.readU64(), let contentType = p.readU8() else {
            throw .malformed("plain too short")
        }
        guard innerExpiry == envelope.expiresAt else { throw .expiryMismatch }
        if contentType == contentTypeReceipt {
            guard let acknowledged = p.read(32), p.remaining == 0 else { throw .malformed("receipt length") }
            var receipt = ReceivedMessage(
                id: id, kind: .direct, sender: sender, createdAt: createdAt, expiresAt: innerExpiry, text: "",
                sequence: nil, authorNonce: nonce)
            receipt.acknowledges = EnvelopeID(bytes: acknowledged)
            return receipt
        }
        guard let ephemeral = isEphemeral(contentType: contentType) else {
            throw .malformed("content type \(contentType)")
        }
        let textBytes = p.rest()
        guard textBytes.count <= MessageLimits.maxTextBytes else { throw .textTooLong(textBytes.count) }
        guard let text = String(validating: textBytes, as: UTF8.self) else { throw .notUTF8 }
        return ReceivedMessage(
            id: id, kind: .direct, sender: sender, createdAt: createdAt, expiresAt: innerExpiry, text: text,
            sequence: nil, authorNonce: nonce, ephemeral: ephemeral)
    }
}
