import NIOCore

/// The symmetric key that seals every LAN datagram of one mesh.
///
/// ```
/// datagram  = "ES" | ver u8 (=1) | nonce[24] | XChaCha20-Poly1305(mesh_key, nonce, ad = "ES"|ver, plaintext)
/// plaintext = type u8 | session u64 BE | payload          (payloads: see `Packet` and its codec)
/// ```
public struct MeshKey: Sendable {
    let aead: AEADKey

    /// The public default key: anyone running Estafette can read an open mesh's packets.
    public static let publicDefault: MeshKey = {
        let k = SecretBytes(copying: Sodium.blake2b(Array("estafette/mesh/public/v1".utf8), length: 32))
        return MeshKey(aead: try! AEADKey(key: k))
    }()

    init(aead: AEADKey) { self.aead = aead }

    /// Argon2id limits for a private mesh key: 4 passes over 64 MiB. Derived once per daemon start (about 0.3 s on
    /// the development machine, 1–2 s on a Raspberry Pi 4); each offline guess costs an attacker the same. See
    /// docs/security.md, "Private meshes".
    public static let passphraseOpsLimit = 4
    public static let passphraseMemLimit = 64 << 20

    /// The Argon2id salt of the mesh called `name`: every member derives the same key, and a table of guesses
    /// computed for one mesh is useless against another.
    public static func salt(meshName name: String) -> [UInt8] {
        Sodium.blake2b(Array("estafette/mesh/salt/v2".utf8) + [0] + Array(name.utf8), length: 16)
    }

    /// A private mesh key from its name and passphrase (Argon2id; nil only if the derivation fails, e.g. out of
    /// memory). The limits can be lowered for tests.
    public static func fromPassphrase(
        _ passphrase: String, meshName: String, opsLimit: Int = passphraseOpsLimit,
        memLimit: Int = passphraseMemLimit
    ) -> MeshKey? {
        guard
            let key = PasswordHash.deriveKey(
                passphrase: passphrase, salt: salt(meshName: meshName), opsLimit: opsLimit, memLimit: memLimit),
            let aead = try? AEADKey(key: key)
        else { return nil }
        return MeshKey(aead: aead)
    }

    static let ad: [UInt8] = Packet.magic + [Packet.version]

    /// Seals one packet from `session` into a datagram.
    public func seal(_ packet: Packet, session: UInt64) -> [UInt8] {
        var plain = ByteBuffer()
        plain.writeInteger(packet.type)
        plain.writeInteger(session)
        plain.writePacketPayload(packet)
        let nonce = Sodium.randomBytes(AEADKey.nonceBytes)
        return Self.ad + nonce + aead.seal(Array(plain.readableBytesView), nonce: nonce, ad: Self.ad)
    }

    /// Opens a datagram: the sender's session and the packet.
    public func open(_ datagram: [UInt8]) throws(WireError) -> (session: UInt64, packet: Packet) {
        guard datagram.count <= Packet.maxDatagramBytes else { throw .oversized("datagram", datagram.count) }
        guard datagram.count >= Packet.sealedOverhead + Packet.plainHeaderBytes else { throw .truncated("datagram") }
        guard datagram[0] == Packet.magic[0], datagram[1] == Packet.magic[1] else { throw .badMagic }
        guard datagram[2] == Packet.version else { throw .unknownVersion(datagram[2]) }
        let nonce = Array(datagram[3..<(3 + AEADKey.nonceBytes)])
        let plain: [UInt8]
        do {
            plain = try aead.open(datagram[(3 + AEADKey.nonceBytes)...], nonce: nonce, ad: Self.ad)
        } catch {
            throw .badMAC
        }
        var buffer = ByteBuffer(bytes: plain)
        guard let type = buffer.readInteger(as: UInt8.self), let session = buffer.readInteger(as: UInt64.self) else {
            throw .truncated("packet header")
        }
        return (session, try buffer.readPacketPayload(type: type))
    }
}
