import Testing

@testable import EstafetteCore

@Suite("Packet and MeshKey datagrams")
struct PacketTests {
    static let session: UInt64 = 0xDEAD_BEEF_0BAD_CAFE
    static let key = MeshKey.publicDefault

    static let samples: [Packet] = {
        var rng = SplitMix64(seed: 3)
        let envelope = Envelope(
            kind: .alert, expiresAt: 1_900_000_000, tag: [1, 2], body: Fixture.bytes(500, using: &rng))
        let id = EnvelopeID(ofEncoded: envelope.encoded())
        let prefixes = (0..<Packet.maxPrefixesPerPacket).map { _ in UInt64.random(in: 1_000...2_000_000, using: &rng) }
            .sorted()
        return [
            .beacon(count: 0, digest: .zero),
            .beacon(count: 123_456, digest: id),
            .envelope(envelope.encoded()),
            .fragment(
                stream: id.prefix, offset: 0, total: 5_000, chunk: Fixture.bytes(Packet.maxChunkBytes, using: &rng)),
            .fragment(stream: 7, offset: 4_999, total: 5_000, chunk: [0x42]),
            .inventory(lo: 0, hi: .max, count: 3, digest: .zero, prefixes: []),
            .inventory(lo: 1_000, hi: 2_000_000, count: 3, digest: .zero, prefixes: prefixes),
            .inventory(lo: 5, hi: 5, count: 3, digest: .zero, prefixes: [5]),
            .want(target: 7, need: 1, prefixes: []),
            .want(target: 7, need: 1, prefixes: [id.prefix, 1, .max]),
            .want(target: 7, need: 1, prefixes: prefixes),
            .coded(members: [1, id.prefix], coefficients: [3, 255], payload: Fixture.bytes(300, using: &rng)),
            .parity(stream: id.prefix, total: 5_000, index: 0, chunk: Fixture.bytes(Packet.maxChunkBytes, using: &rng)),
            .parity(
                stream: 7, total: UInt32(Envelope.maxEncodedBytes), index: 255,
                chunk: Fixture.bytes(Packet.maxChunkBytes, using: &rng)),
        ]
    }()

    // MARK: - Round trips

    @Test("seal then open gives back the session and the packet, for every packet type", arguments: samples)
    func roundTrip(packet: Packet) throws {
        let datagram = Self.key.seal(packet, session: Self.session)
        #expect(datagram.count <= Packet.maxDatagramBytes)
        #expect(Array(datagram.prefix(3)) == [0x45, 0x53, 1])
        let (session, opened) = try Self.key.open(datagram)
        #expect(session == Self.session)
        #expect(opened == packet)
    }

    @Test("the samples cover every packet type")
    func everyTypeCovered() {
        #expect(Set(Self.samples.map(\.type)) == Set(1...7))
    }

    @Test("every datagram gets a fresh nonce")
    func freshNonce() {
        let a = Self.key.seal(.want(target: 7, need: 1, prefixes: [1]), session: 1)
        let b = Self.key.seal(.want(target: 7, need: 1, prefixes: [1]), session: 1)
        #expect(a != b)
        #expect(a.count == b.count)
    }

    @Test("the payload size limits leave a full-size packet at exactly maxDatagramBytes")
    func sizeBudget() {
        let fragment = Packet.fragment(
            stream: 1, offset: 0, total: 20_000, chunk: [UInt8](repeating: 0, count: Packet.maxChunkBytes))
        #expect(Self.key.seal(fragment, session: 1).count == Packet.maxDatagramBytes)
        let envelope = Packet.envelope([UInt8](repeating: 0, count: Packet.maxPayloadBytes))
        #expect(Self.key.seal(envelope, session: 1).count == Packet.maxDatagramBytes)
    }

    // MARK: - Datagram rejections

    @Test("a wrong magic is refused")
    func wrongMagic() {
        let datagram = Self.key.seal(.want(target: 7, need: 1, prefixes: [1]), session: 1)
        for (i, value) in [(0, UInt8(0x46)), (1, UInt8(0x00))] {
            var bad = datagram
            bad[i] = value
            #expect(throws: WireError.badMagic) { try Self.key.open(bad) }
        }
    }

    @Test("an unknown datagram version is refused", arguments: [UInt8(0), 2, 255])
    func unknownVersion(version: UInt8) {
        var datagram = Self.key.seal(.want(target: 7, need: 1, prefixes: [1]), session: 1)
        datagram[2] = version
        #expect(throws: WireError.unknownVersion(version)) { try Self.key.open(datagram) }
    }

    @Test("flipping any single bit of a datagram makes it fail to open")
    func flippedBits() throws {
        let packets: [Packet] = [.beacon(count: 3, digest: .zero), .want(target: 7, need: 1, prefixes: [1, 2, 3])]
        for packet in packets {
            let datagram = Self.key.seal(packet, session: Self.session)
            #expect(try Self.key.open(datagram).packet == packet)  // control
            for bit in 0..<(datagram.count * 8) {
                let bad = flippingBit(bit, of: datagram)
                let error = #expect(throws: WireError.self, "bit \(bit)") { try Self.key.open(bad) }
                switch bit / 8 {
                case 0, 1: #expect(error == .badMagic)
                case 2: #expect(error == .unknownVersion(bad[2]))
                default: #expect(error == .badMAC, "bit \(bit)")
                }
            }
        }
    }

    @Test("a datagram sealed with another mesh key is refused as a bad MAC, both ways")
    func otherMeshKey() throws {
        let packet = Packet.beacon(count: 1, digest: .zero)
        let foreign = Fixture.otherMeshKey.seal(packet, session: 9)
        #expect(throws: WireError.badMAC) { try Self.key.open(foreign) }
        #expect(try Fixture.otherMeshKey.open(foreign).packet == packet)  // control: the right key opens it
        #expect(throws: WireError.badMAC) { try Fixture.otherMeshKey.open(Self.key.seal(packet, session: 9)) }
    }

    @Test("the passphrase key is deterministic and differs between passphrases")
    func passphraseKeys() throws {
        let again = try #require(MeshKey.fromPassphrase("x", meshName: "test", opsLimit: 1, memLimit: 8 * 1024 * 1024))
        let other = try #require(MeshKey.fromPassphrase("y", meshName: "test", opsLimit: 1, memLimit: 8 * 1024 * 1024))
        let datagram = Fixture.otherMeshKey.seal(.want(target: 7, need: 1, prefixes: [42]), session: 5)
        #expect(try again.open(datagram).packet == .want(target: 7, need: 1, prefixes: [42]))
        #expect(throws: WireError.badMAC) { try other.open(datagram) }
    }

    @Test("a datagram over 1200 bytes is refused before any crypto")
    func oversizedDatagram() {
        let big = Self.key.seal(.envelope([UInt8](repeating: 1, count: Packet.maxPayloadBytes + 1)), session: 1)
        #expect(big.count == Packet.maxDatagramBytes + 1)
        #expect(throws: WireError.oversized("datagram", big.count)) { try Self.key.open(big) }
        let huge = [UInt8](repeating: 0x45, count: 65_000)
        #expect(throws: WireError.oversized("datagram", huge.count)) { try Self.key.open(huge) }
    }

    @Test("a datagram too short to hold a header is truncated")
    func shortDatagram() {
        for length in [0, 1, 3, 27, 51] {
            let bytes = Array(Self.key.seal(.want(target: 7, need: 1, prefixes: []), session: 1).prefix(length))
            #expect(throws: WireError.truncated("datagram")) { try Self.key.open(bytes) }
        }
    }

    @Test("an inventory with a prefix outside its range is refused")
    func inventoryOutsideRange() throws {
        for prefixes: [UInt64] in [[5], [10, 21], [9, 15], [.max]] {
            let datagram = Self.key.seal(
                .inventory(lo: 10, hi: 20, count: 3, digest: .zero, prefixes: prefixes), session: 1)
            #expect(throws: WireError.invalid("inventory prefix outside range")) { try Self.key.open(datagram) }
        }
        // Both bounds are inclusive.
        let edges = Self.key.seal(.inventory(lo: 10, hi: 20, count: 3, digest: .zero, prefixes: [10, 20]), session: 1)
        #expect(
            try Self.key.open(edges).packet == .inventory(lo: 10, hi: 20, count: 3, digest: .zero, prefixes: [10, 20]))
        // An inverted range is refused too.
        let inverted = Self.key.seal(.inventory(lo: 20, hi: 10, count: 3, digest: .zero, prefixes: []), session: 1)
        #expect(throws: WireError.invalid("inventory range")) { try Self.key.open(inverted) }
    }

    @Test("an inventory or want claiming more prefixes than a packet can hold is refused")
    func tooManyPrefixes() {
        let n = UInt16(Packet.maxPrefixesPerPacket + 1)
        let header: [UInt8] = be(UInt64(0)) + be(UInt64.max) + be(UInt32(3)) + [UInt8](repeating: 0, count: 32)
        // The count alone is refused, whatever follows.
        let inventory = Self.key.sealRaw([4] + be(Self.session) + header + be(n))
        #expect(throws: WireError.oversized("inventory n", Int(n))) { try Self.key.open(inventory) }
        let inventoryMax = Self.key.sealRaw([4] + be(Self.session) + header + be(UInt16.max))
        #expect(throws: WireError.oversized("inventory n", 65_535)) { try Self.key.open(inventoryMax) }
        // A want with one prefix too many still fits in a datagram, so only the count check stops it.
        let prefixes = (0..<UInt64(n)).flatMap { be($0) }
        let want = Self.key.sealRaw([5] + be(Self.session) + be(UInt64(7)) + be(UInt16(1)) + be(n) + prefixes)
        #expect(want.count <= Packet.maxDatagramBytes)
        #expect(throws: WireError.oversized("want n", Int(n))) { try Self.key.open(want) }
    }

    @Test("a count larger than the prefixes present is truncated; extra bytes are trailing")
    func prefixCountMismatch() {
        let target = be(UInt64(7)) + be(UInt16(1))  // and the need
        let short = Self.key.sealRaw([5] + be(Self.session) + target + be(UInt16(3)) + be(UInt64(1)))
        #expect(throws: WireError.truncated("want prefixes")) { try Self.key.open(short) }
        let long = Self.key.sealRaw([5] + be(Self.session) + target + be(UInt16(1)) + be(UInt64(1)) + [0])
        #expect(throws: WireError.trailingBytes(1)) { try Self.key.open(long) }
        let inventory = Self.key.sealRaw(
            [4] + be(Self.session) + be(UInt64(0)) + be(UInt64(9)) + be(UInt32(2)) + [UInt8](repeating: 0, count: 32)
                + be(UInt16(2)) + be(UInt64(1)))
        #expect(throws: WireError.truncated("inventory prefixes")) { try Self.key.open(inventory) }
    }

    @Test("malformed payloads of each type are refused")
    func malformedPayloads() {
        let s = be(Self.session)
        let cases: [([UInt8], WireError)] = [
            ([1] + s + [0, 0, 0, 1], .truncated("beacon")),
            ([1] + s + [UInt8](repeating: 0, count: 37), .trailingBytes(1)),
            ([2] + s, .truncated("envelope")),
            ([3] + s + be(UInt64(1)) + be(UInt32(0)), .truncated("fragment")),
            ([3] + s + be(UInt64(1)) + be(UInt32(0)) + be(UInt32(10)), .truncated("fragment chunk")),
            ([3] + s + be(UInt64(1)) + be(UInt32(8)) + be(UInt32(10)) + [1, 2, 3], .invalid("fragment beyond total")),
            (
                [3] + s + be(UInt64(1)) + be(UInt32(0)) + be(UInt32(Envelope.maxEncodedBytes + 1)) + [1],
                .oversized("fragment total", Envelope.maxEncodedBytes + 1)
            ),
            ([4] + s + be(UInt64(0)), .truncated("inventory")),
            ([5] + s + [0], .truncated("want")),
            ([0] + s, .unknownPacketType(0)),
            ([5] + s + be(UInt64(7)) + [0], .truncated("want")),
            ([6] + s, .truncated("coded")),
            ([6] + s + [0], .oversized("coded n", 0)),
            ([6] + s + [UInt8(CodedRepair.maxMembers + 1)], .oversized("coded n", CodedRepair.maxMembers + 1)),
            ([6] + s + [2] + be(UInt64(9)) + be(UInt64(9)), .invalid("coded members not ascending")),
            ([6] + s + [1] + be(UInt64(9)), .truncated("coded coefficients")),
            (
                [6] + s + [1] + be(UInt64(9)) + [0] + [UInt8](repeating: 1, count: 20),
                .invalid("coded coefficient zero")
            ),
            ([6] + s + [1] + be(UInt64(9)) + [1] + [1, 2], .truncated("coded payload")),
            ([7] + s + be(UInt64(1)), .truncated("parity")),
            ([7] + s + be(UInt64(1)) + [0, 0, 0x13, 0x88], .truncated("parity")),
            ([8] + s, .unknownPacketType(8)),
            ([255] + s + [1, 2, 3], .unknownPacketType(255)),
            // The datagram minimum guarantees a full type and session, so a short plaintext is a short datagram.
            ([1, 0, 0], .truncated("datagram")),
        ]
        for (plain, expected) in cases {
            #expect(throws: expected) { try Self.key.open(Self.key.sealRaw(plain)) }
        }
    }

    @Test("random payloads never crash the decoder, and whatever is accepted re-encodes to the same bytes")
    func garbagePayloads() {
        var rng = SplitMix64(seed: 0x9A_CE7)
        var accepted = 0
        for _ in 0..<20_000 {
            let type = UInt8.random(in: 0...8, using: &rng)
            let length = Int.random(in: 0...60, using: &rng)
            var payload = Fixture.bytes(length, using: &rng)
            // Small counts make the list types reachable.
            if (type == 4 && length >= 18) || (type == 5 && length >= 2) {
                let at = type == 4 ? 16 : 0
                payload[at] = 0
                payload[at + 1] = UInt8.random(in: 0...7, using: &rng)
                if type == 4 {
                    payload.replaceSubrange(0..<8, with: be(UInt64(0)))
                    payload.replaceSubrange(8..<16, with: be(UInt64.max))
                }
            }
            guard let packet = try? Packet.decodePayload(type: type, payload) else { continue }
            accepted += 1
            #expect(packet.type == type)
            #expect(packet.encodePayload() == payload)
        }
        #expect(accepted > 100)  // the generator does reach the accepting paths
    }

    @Test("random datagrams never open")
    func garbageDatagrams() {
        var rng = SplitMix64(seed: 77)
        for i in 0..<3_000 {
            var bytes = Fixture.bytes(Int.random(in: 0...1_300, using: &rng), using: &rng)
            if i % 2 == 0, bytes.count >= 3 { bytes.replaceSubrange(0..<3, with: [0x45, 0x53, 1]) }
            #expect(throws: WireError.self) { try Self.key.open(bytes) }
        }
    }
}

@Suite("Private mesh keys")
struct PrivateMeshKeyTests {
    static func key(_ passphrase: String, _ name: String) throws -> MeshKey {
        try #require(MeshKey.fromPassphrase(passphrase, meshName: name, opsLimit: 1, memLimit: 8 << 20))
    }

    @Test("members with the same name and passphrase talk; another mesh name is another key")
    func saltPerMesh() throws {
        let packet = Packet.beacon(count: 1, digest: EnvelopeID(ofEncoded: [1, 2, 3]))
        let datagram = try Self.key("plum tractor", "assembly").seal(packet, session: 9)
        #expect(try Self.key("plum tractor", "assembly").open(datagram).session == 9)
        let otherName = try Self.key("plum tractor", "assembly2")
        let otherPassphrase = try Self.key("plum tractors", "assembly")
        #expect(throws: WireError.self) { try otherName.open(datagram) }
        #expect(throws: WireError.self) { try otherPassphrase.open(datagram) }
        #expect(MeshKey.salt(meshName: "a") != MeshKey.salt(meshName: "b"))
        #expect(MeshKey.salt(meshName: "a").count == PasswordHash.saltBytes)
    }
}
