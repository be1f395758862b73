import CSodium

/// The key of one passphrase channel, and what is derived from it.
///
/// ```
/// salt     = BLAKE2b-128("estafette/channel/salt/v1" | 0x00 | name)
/// master   = Argon2id(passphrase, salt, opslimit, memlimit) -> 32 bytes        (once per join)
/// tag_key  = BLAKE2b-256(key = master, "estafette/channel/tag/v1")
/// body_key = BLAKE2b-256(key = master, "estafette/channel/body/v1")
/// tag(day) = BLAKE2b-128(key = tag_key, day u64 BE)       day = floor(expires_at / 86400)
/// ```
/// A wrong passphrase is not an error: it derives another key, so it joins another channel, which is empty. The
/// tag changes every day (of the envelope's expiry), so a non-member cannot link a channel's posts across days; a
/// member computes the tag of any post from its clear `expires_at`, so no period needs to be guessed.
public struct ChannelKey: Sendable {
    /// The channel's name, exactly as the user typed it (its UTF-8 bytes salt the derivation).
    public let name: String
    /// The Argon2id output: the only secret a node needs to keep to stay in the channel.
    public let master: SecretBytes
    let tagKey: SecretBytes
    let body: AEADKey

    /// Argon2id limits for a channel key: 3 passes over 64 MiB (docs/decisions.md, "Channel keys": about 0.1 s
    /// here when the machine is quiet, well under a second on a Raspberry Pi 4). Lowered only by tests.
    public static let passphraseOpsLimit = 3
    public static let passphraseMemLimit = 64 << 20

    /// Seconds in one tag period.
    public static let periodSeconds: UInt64 = 86_400
    public static let tagBytes = 16
    /// Longest channel name, in UTF-8 bytes.
    public static let maxNameBytes = 64

    /// The Argon2id salt of the channel called `name`: a table of guesses made for one channel is useless
    /// against another.
    public static func salt(channelName name: String) -> [UInt8] {
        Sodium.blake2b(Array("estafette/channel/salt/v1".utf8) + [0] + Array(name.utf8), length: 16)
    }

    /// Derives the key of channel `name` from its passphrase (Argon2id; nil only if the derivation fails, e.g. out
    /// of memory). Costs about a second on a small board: the shell runs it off its event loop.
    public static func derive(
        name: String, passphrase: String, opsLimit: Int = passphraseOpsLimit, memLimit: Int = passphraseMemLimit
    ) -> ChannelKey? {
        guard
            let master = PasswordHash.deriveKey(
                passphrase: passphrase, salt: salt(channelName: name), opsLimit: opsLimit, memLimit: memLimit)
        else { return nil }
        return try? ChannelKey(name: name, master: master)
    }

    /// A channel key from its stored master key (32 bytes).
    public init(name: String, master: SecretBytes) throws(CryptoError) {
        guard master.count == 32 else { throw .invalidKeyLength }
        self.name = name
        self.master = master
        self.tagKey = Self.subkey(master, label: "estafette/channel/tag/v1")
        self.body = try AEADKey(key: Self.subkey(master, label: "estafette/channel/body/v1"))
    }

    /// BLAKE2b-256 keyed by `key` over `label`, into guarded memory.
    static func subkey(_ key: SecretBytes, label: String) -> SecretBytes {
        let out = SecretBytes(count: 32)
        let input = Array(label.utf8)
        let rc = out.withUnsafeMutableBytes { o in
            key.withUnsafeBytes { k in
                crypto_generichash(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), 32, input, UInt64(input.count),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
            }
        }
        precondition(rc == 0, "crypto_generichash failed with valid lengths")
        return out
    }

    /// The tag period of an envelope expiring at `expiresAt` (Unix seconds).
    public static func period(expiresAt: UInt64) -> UInt64 { expiresAt / periodSeconds }

    /// The channel's tag for one period.
    public func tag(period: UInt64) -> [UInt8] {
        var input: [UInt8] = []
        input.appendBE(period)
        var out = [UInt8](repeating: 0, count: Self.tagBytes)
        let rc = tagKey.withUnsafeBytes { k in
            crypto_generichash(
                &out, Self.tagBytes, input, UInt64(input.count), k.baseAddress!.assumingMemoryBound(to: UInt8.self),
                k.count)
        }
        precondition(rc == 0, "crypto_generichash failed with valid lengths")
        return out
    }

    /// Whether `envelope` carries this channel's tag (constant time; costs one keyed hash).
    public func matches(_ envelope: Envelope) -> Bool {
        envelope.kind == .channel
            && Sodium.constantTimeEqual(envelope.tag, tag(period: Self.period(expiresAt: envelope.expiresAt)))
    }
}

/// Posts to a passphrase channel: sealed under the channel key, signed by their author inside.
///
/// ```
/// tag       = ChannelKey.tag(period(expires_at))                     (16 bytes, in the envelope header)
/// body      = nonce[24] | XChaCha20-Poly1305(body_key, nonce, pad(inner, bucket), ad = envelope header)
/// inner     = author_pk[32] | signature[64] | created_at u64 BE | content_type u8 | text
///             content_type: 1 = UTF-8 text, 2 = UTF-8 text to delete from the inbox at expires_at
/// signature = Ed25519(author, "estafette/channel/v1" | envelope header | nonce | author_pk | created_at |
///                             content_type | text)
/// ```
/// The header (version, kind, expires_at, tag) is the AEAD's associated data and is signed, so nobody can change a
/// post's lifetime or move it to another channel or day. The nonce is signed too: a member re-sealing an author's
/// post under a new nonce breaks the signature, so one authored post has one envelope ID.
///
/// Not deniable, by choice (docs/decisions.md, "Channel posts are signed"): the Ed25519 signature proves to anyone
/// who holds the channel key and the post that its author wrote it. With one key shared by every member, a MAC
/// could not tell members apart; only a signature stops one member from posting as another.
public enum ChannelMessage {
    static let domain = Array("estafette/channel/v1".utf8)
    static let signatureBytes = 64
    static let nonceBytes = AEADKey.nonceBytes

    /// Seals a post by `author` to the channel of `key`.
    public static func seal(
        text: String, from author: SigningKeyPair, in key: ChannelKey, createdAt: UInt64, expiresAt: UInt64,
        ephemeral: Bool = false
    ) throws(MessageError) -> Envelope {
        let textBytes = Array(text.utf8)
        guard textBytes.count <= MessageLimits.maxTextBytes else { throw .textTooLong(textBytes.count) }
        var envelope = Envelope(
            kind: .channel, expiresAt: expiresAt, tag: key.tag(period: ChannelKey.period(expiresAt: expiresAt)),
            body: [])
        let header = envelope.headerBytes()
        let nonce = Sodium.randomBytes(nonceBytes)
        var content: [UInt8] = []
        content.appendBE(createdAt)
        content.append(DirectMessage.contentType(ephemeral: ephemeral))
        content += textBytes
        let signature = author.sign(domain + header + nonce + author.publicKey.bytes + content)
        let inner = author.publicKey.bytes + signature + content
        guard let bucket = DirectMessage.bucket(for: inner.count) else { throw .textTooLong(textBytes.count) }
        envelope.body = nonce + key.body.seal(Sodium.pad(inner, blockSize: bucket), nonce: nonce, ad: header)
        return envelope
    }

    /// Opens a post with the key of a channel this node joined. Throws `.notForUs` when the tag is not this
    /// channel's (someone else's channel: carry it), and another error when it carries the tag but fails a check
    /// (never shown).
    public static func open(_ envelope: Envelope, id: EnvelopeID, with key: ChannelKey) throws(MessageError)
        -> ReceivedMessage
    {
        guard envelope.kind == .channel else { throw .wrongKind }
        guard key.matches(envelope) else { throw .notForUs }
        guard envelope.body.count > nonceBytes + AEADKey.tagBytes else { throw .malformed("channel body too short") }
        let header = envelope.headerBytes()
        let nonce = Array(envelope.body.prefix(nonceBytes))
        let padded: [UInt8]
        do {
            padded = try key.body.open(envelope.body.dropFirst(nonceBytes), nonce: nonce, ad: header)
        } catch {
            throw .channelSeal
        }
        guard padded.count >= DirectMessage.minBucket, padded.count <= DirectMessage.maxBucket,
            padded.count & (padded.count - 1) == 0,
            let inner = Sodium.unpad(padded, blockSize: padded.count)
        else { throw .badPadding }
        var r = ByteReader(inner)
        guard let authorBytes = r.read(SigningPublicKey.byteCount), let signature = r.read(signatureBytes) else {
            throw .malformed("channel inner too short")
        }
        let content = r.rest()
        var c = ByteReader(content)
        guard let createdAt = c.readU64(), let contentType = c.readU8() else {
            throw .malformed("channel content too short")
        }
        let author: SigningPublicKey
        do {
            author = try SigningPublicKey(validating: authorBytes)
        } catch {
            throw .invalidKey
        }
        guard author.verify(signature: signature, message: domain + header + nonce + authorBytes + content) else {
            throw .forgedSender
        }
        guard let ephemeral = DirectMessage.isEphemeral(contentType: contentType) else {
            throw .malformed("content type \(contentType)")
        }
        guard createdAt <= envelope.expiresAt else { throw .malformed("created after it expires") }
        let textBytes = c.rest()
        guard textBytes.count <= MessageLimits.maxTextBytes else { throw .textTooLong(textBytes.count) }
        guard let text = String(validating: textBytes, as: UTF8.self) else { throw .notUTF8 }
        return ReceivedMessage(
            id: id, kind: .channel, sender: author, createdAt: createdAt, expiresAt: envelope.expiresAt, text: text,
            sequence: nil, authorNonce: nonce, channel: key.name, ephemeral: ephemeral)
    }
}
