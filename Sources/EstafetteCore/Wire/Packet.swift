/// LAN datagrams. Everything but the magic, version and nonce is sealed with the mesh key, so an outsider on the
/// same Wi-Fi sees only sizes.
///
/// ```
/// datagram  = "ES" | ver u8 (=1) | nonce[24] | XChaCha20-Poly1305(mesh_key, nonce, ad = "ES"|ver, plaintext)
/// plaintext = type u8 | session u64 BE | payload
///
/// type 1 beacon     count u32 | digest[32]                       (digest = XOR of all unexpired envelope IDs)
/// type 2 envelope   one encoded envelope (fits one datagram)
/// type 3 fragment   stream u64 | offset u32 | total u32 | chunk   (stream = first 8 bytes of the envelope ID)
/// type 4 inventory  range_lo u64 | range_hi u64 | count u32 | digest[32] | n u16 | n × id-prefix u64
///                   (sorted; every prefix the sender holds in [lo, hi]; count and digest of its whole store)
/// type 5 want       target session u64 | need u16 | n u16 | n × id-prefix u64
///                   (the node asked to repair them; need = how many the asking node lacks, listed or not)
/// type 6 coded      n u8 | n × id-prefix u64 (strictly ascending) | n × coefficient u8 (non-zero) | payload
///                   (payload = Σ coefficient·member over GF(2⁸), members zero-padded; see CodedRepair)
/// type 7 parity     stream u64 | total u32 | index u8 | chunk   (Σ α^i·chunk_i over GF(2⁸) for the envelope's
///                   fragment chunks i, zero-padded, with α = 2^index: index 0 is their XOR, sent after the
///                   fragments; repairs send other indices. A receiver missing m fragments rebuilds them from
///                   any m parities; see `Fragmenter`)
/// ```
public enum Packet: Hashable, Sendable {
    case beacon(count: UInt32, digest: EnvelopeID)
    case envelope([UInt8])
    case fragment(stream: UInt64, offset: UInt32, total: UInt32, chunk: [UInt8])
    case inventory(lo: UInt64, hi: UInt64, count: UInt32, digest: EnvelopeID, prefixes: [UInt64])
    case want(target: UInt64, need: UInt16, prefixes: [UInt64])
    case coded(members: [UInt64], coefficients: [UInt8], payload: [UInt8])
    case parity(stream: UInt64, total: UInt32, index: UInt8, chunk: [UInt8])

    public static let magic: [UInt8] = [0x45, 0x53]  // "ES"
    public static let version: UInt8 = 1
    /// Largest datagram we send: a safe payload on any path (IPv6 minimum MTU less headers).
    public static let maxDatagramBytes = 1200
    static let sealedOverhead = 2 + 1 + AEADKey.nonceBytes + AEADKey.tagBytes
    static let plainHeaderBytes = 1 + 8
    /// Room for a payload inside one datagram.
    public static let maxPayloadBytes = maxDatagramBytes - sealedOverhead - plainHeaderBytes
    static let fragmentHeaderBytes = 8 + 4 + 4
    public static let maxChunkBytes = maxPayloadBytes - fragmentHeaderBytes
    /// Most prefixes in one inventory or want packet.
    public static let maxPrefixesPerPacket = (maxPayloadBytes - (8 + 8 + 4 + 32 + 2)) / 8
    /// The shortest payload a coded packet may carry: an envelope header.
    static let minCodedPayloadBytes = Envelope.headerBytes

    var type: UInt8 {
        switch self {
        case .beacon: return 1
        case .envelope: return 2
        case .fragment: return 3
        case .inventory: return 4
        case .want: return 5
        case .coded: return 6
        case .parity: return 7
        }
    }

    func encodePayload() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .beacon(let count, let digest):
            out.appendBE(count)
            out += digest.bytes
        case .envelope(let bytes):
            out = bytes
        case .fragment(let stream, let offset, let total, let chunk):
            out.appendBE(stream)
            out.appendBE(UInt64(offset) << 32 | UInt64(total))
            out += chunk
        case .inventory(let lo, let hi, let count, let digest, let prefixes):
            out.appendBE(lo)
            out.appendBE(hi)
            out.appendBE(count)
            out += digest.bytes
            out.appendBE(UInt16(prefixes.count))
            for p in prefixes { out.appendBE(p) }
        case .want(let target, let need, let prefixes):
            out.appendBE(target)
            out.appendBE(need)
            out.appendBE(UInt16(prefixes.count))
            for p in prefixes { out.appendBE(p) }
        case .parity(let stream, let total, let index, let chunk):
            out.appendBE(stream)
            out.appendBE(total)
            out.append(index)
            out += chunk
        case .coded(let members, let coefficients, let payload):
            out.append(UInt8(members.count))
            for p in members { out.appendBE(p) }
            out += coefficients
            out += payload
        }
        return out
    }

    static func decodePayload(type: UInt8, _ payload: [UInt8]) throws(WireError) -> Packet {
        var r = ByteReader(payload)
        switch type {
        case 1:
            guard let c = r.read(4), let d = r.read(32) else { throw .truncated("beacon") }
            guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
            let count = c.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return .beacon(count: count, digest: EnvelopeID(bytes: d))
        case 2:
            guard !payload.isEmpty else { throw .truncated("envelope") }
            return .envelope(payload)
        case 3:
            guard let stream = r.readU64(), let ot = r.readU64() else { throw .truncated("fragment") }
            let offset = UInt32(ot >> 32)
            let total = UInt32(ot & 0xFFFF_FFFF)
            let chunk = r.rest()
            guard !chunk.isEmpty else { throw .truncated("fragment chunk") }
            guard Int(total) <= Envelope.maxEncodedBytes else { throw .oversized("fragment total", Int(total)) }
            guard Int(offset) + chunk.count <= Int(total) else { throw .invalid("fragment beyond total") }
            return .fragment(stream: stream, offset: offset, total: total, chunk: chunk)
        case 4:
            guard let lo = r.readU64(), let hi = r.readU64(), let c = r.read(4), let d = r.read(32),
                let n = r.readU16()
            else {
                throw .truncated("inventory")
            }
            let count = c.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard Int(n) <= maxPrefixesPerPacket else { throw .oversized("inventory n", Int(n)) }
            guard lo <= hi else { throw .invalid("inventory range") }
            var prefixes: [UInt64] = []
            prefixes.reserveCapacity(Int(n))
            for _ in 0..<n {
                guard let p = r.readU64() else { throw .truncated("inventory prefixes") }
                guard p >= lo, p <= hi else { throw .invalid("inventory prefix outside range") }
                prefixes.append(p)
            }
            guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
            return .inventory(lo: lo, hi: hi, count: count, digest: EnvelopeID(bytes: d), prefixes: prefixes)
        case 5:
            guard let target = r.readU64(), let need = r.readU16(), let n = r.readU16() else {
                throw .truncated("want")
            }
            guard Int(n) <= maxPrefixesPerPacket else { throw .oversized("want n", Int(n)) }
            var prefixes: [UInt64] = []
            prefixes.reserveCapacity(Int(n))
            for _ in 0..<n {
                guard let p = r.readU64() else { throw .truncated("want prefixes") }
                prefixes.append(p)
            }
            guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
            return .want(target: target, need: need, prefixes: prefixes)
        case 6:
            guard let n = r.readU8() else { throw .truncated("coded") }
            guard n >= 1, Int(n) <= CodedRepair.maxMembers else { throw .oversized("coded n", Int(n)) }
            var members: [UInt64] = []
            members.reserveCapacity(Int(n))
            for _ in 0..<n {
                guard let p = r.readU64() else { throw .truncated("coded members") }
                guard members.last.map({ $0 < p }) ?? true else { throw .invalid("coded members not ascending") }
                members.append(p)
            }
            guard let coefficients = r.read(Int(n)) else { throw .truncated("coded coefficients") }
            guard !coefficients.contains(0) else { throw .invalid("coded coefficient zero") }
            let payload = r.rest()
            guard payload.count >= minCodedPayloadBytes else { throw .truncated("coded payload") }
            return .coded(members: members, coefficients: coefficients, payload: payload)
        case 7:
            guard let stream = r.readU64(), let t = r.read(4), let index = r.read(1) else {
                throw .truncated("parity")
            }
            let total = t.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let chunk = r.rest()
            guard Int(total) <= Envelope.maxEncodedBytes else { throw .oversized("parity total", Int(total)) }
            guard Int(total) > maxChunkBytes, chunk.count == maxChunkBytes else {
                throw .invalid("parity length")
            }
            return .parity(stream: stream, total: total, index: index[0], chunk: chunk)
        default:
            throw .unknownPacketType(type)
        }
    }
}

/// The symmetric key that seals every LAN datagram of one mesh.
public struct MeshKey: Sendable {
    let aead: AEADKey

    /// The public default key: anyone running Estafette can read an open mesh's packets.
    public static let publicDefault: MeshKey = {
        let k = SecretBytes(copying: Sodium.blake2b(Array("estafette/mesh/public/v1".utf8), length: 32))
        return MeshKey(aead: try! AEADKey(key: k))
    }()

    init(aead: AEADKey) { self.aead = aead }

    /// A private mesh key from a passphrase (Argon2id; the salt is fixed so every member derives the same key).
    public static func fromPassphrase(
        _ passphrase: String, opsLimit: Int? = nil, memLimit: Int? = nil
    ) -> MeshKey? {
        let salt = Array(Sodium.blake2b(Array("estafette/mesh/salt/v1".utf8), length: 16))
        let key: SecretBytes?
        if let opsLimit, let memLimit {
            key = PasswordHash.deriveKey(passphrase: passphrase, salt: salt, opsLimit: opsLimit, memLimit: memLimit)
        } else {
            key = PasswordHash.deriveKey(passphrase: passphrase, salt: salt)
        }
        guard let key, let aead = try? AEADKey(key: key) else { return nil }
        return MeshKey(aead: aead)
    }

    static let ad: [UInt8] = Packet.magic + [Packet.version]

    /// Seals one packet from `session` into a datagram.
    public func seal(_ packet: Packet, session: UInt64) -> [UInt8] {
        var plain: [UInt8] = [packet.type]
        plain.appendBE(session)
        plain += packet.encodePayload()
        let nonce = Sodium.randomBytes(AEADKey.nonceBytes)
        return Self.ad + nonce + aead.seal(plain, nonce: nonce, ad: Self.ad)
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
        var r = ByteReader(plain)
        guard let type = r.readU8(), let session = r.readU64() else { throw .truncated("packet header") }
        return (session, try Packet.decodePayload(type: type, r.rest()))
    }
}
