import Testing

@testable import EstafetteCore

/// The bundle format (docs/protocol.md, "Envelope bundles"): round trips, drip-feeding, and every damage refused.
@Suite("Envelope bundle")
struct EnvelopeBundleTests {
    static func bundle(_ envelopes: [[UInt8]]) -> [UInt8] {
        var w = EnvelopeBundle.Writer()
        var out = w.start()
        for e in envelopes { out += w.append(e) }
        out += w.finish()
        #expect(out.count == w.bytes)
        return out
    }

    static func read(_ bytes: [UInt8], chunk: Int = 4096) throws(BundleError) -> [[UInt8]] {
        var r = EnvelopeBundle.Reader()
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            out += try r.feed(bytes[i..<min(bytes.count, i + chunk)])
            i += chunk
        }
        try r.finish()
        return out
    }

    static func sample(_ n: Int, seed: UInt64 = 1) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { i in Fixture.bytes(1 + (i * 97) % 900, using: &rng) }
    }

    @Test("the layout: magic, version, reserved, records, end marker, count, BLAKE2b-256 of all before it")
    func layout() {
        let b = Self.bundle([[0xAA, 0xBB], [0xCC]])
        #expect(Array(b[0..<12]) == [0x89, 0x45, 0x53, 0x42, 0x0D, 0x0A, 0x1A, 0x0A, 1, 0, 0, 0])
        #expect(Array(b[12..<18]) == [0, 0, 0, 2, 0xAA, 0xBB])
        #expect(Array(b[18..<23]) == [0, 0, 0, 1, 0xCC])
        #expect(Array(b[23..<27]) == [0, 0, 0, 0])
        #expect(Array(b[27..<35]) == [0, 0, 0, 0, 0, 0, 0, 2])
        #expect(Array(b[35...]) == Sodium.blake2b(b[0..<35], length: 32))
        #expect(b.count == 12 + 6 + 5 + EnvelopeBundle.trailerBytes)
    }

    @Test("round trip, in any chunk size down to one byte", arguments: [1, 7, 4096, 1 << 20])
    func roundTrip(chunk: Int) throws {
        let envelopes = Self.sample(50)
        #expect(try Self.read(Self.bundle(envelopes), chunk: chunk) == envelopes)
        #expect(try Self.read(Self.bundle([]), chunk: chunk) == [])
    }

    @Test("every flipped byte is refused, wherever it is")
    func everyFlippedByte() {
        let b = Self.bundle(Self.sample(3))
        for i in b.indices {
            var damaged = b
            damaged[i] ^= 0x40
            #expect(throws: BundleError.self, "byte \(i)") { try Self.read(damaged) }
        }
    }

    @Test("every truncation is refused as truncated, with no envelope after the cut")
    func everyTruncation() {
        let b = Self.bundle(Self.sample(3))
        for n in 0..<b.count {
            #expect(throws: BundleError.truncated(at: n), "cut at \(n)") { try Self.read(Array(b[0..<n])) }
        }
    }

    @Test("specific damage gets a specific, readable reason")
    func reasons() {
        let good = Self.bundle([[1, 2, 3]])
        #expect(throws: BundleError.notABundle) { try Self.read(Array("hello, this is a text file".utf8)) }
        var v2 = good
        v2[8] = 2
        #expect(throws: BundleError.unsupportedVersion(2)) { try Self.read(v2) }
        var reserved = good
        reserved[10] = 1
        #expect(throws: BundleError.reservedNotZero(at: 9)) { try Self.read(reserved) }
        #expect(throws: BundleError.trailingBytes(at: good.count)) { try Self.read(good + [0]) }
        // A length beyond any envelope is refused before anything is buffered for it.
        let huge = EnvelopeBundle.header + [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(
            throws: BundleError.recordTooLong(Int(UInt32.max), limit: EnvelopeBundle.maxRecordBytes, at: 12)
        ) { try Self.read(huge) }
        // A trailer that counts differently.
        var w = EnvelopeBundle.Writer()
        var forged = w.start() + w.append([9])
        forged += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
        forged += Sodium.blake2b(forged, length: 32)
        #expect(throws: BundleError.countMismatch(stated: 2, read: 1)) { try Self.read(forged) }
        // The messages say what happened.
        #expect(BundleError.checksumMismatch.description.contains("tampered"))
        #expect(BundleError.truncated(at: 5).description.contains("truncated"))
    }

    @Test("a record of the longest envelope is accepted; one byte more is not")
    func recordBound() throws {
        let max = [UInt8](repeating: 7, count: EnvelopeBundle.maxRecordBytes)
        #expect(try Self.read(Self.bundle([max])) == [max])
        var over = EnvelopeBundle.header
        over += [0, 0, 0, 0].enumerated().map { i, _ in
            UInt8(truncatingIfNeeded: (EnvelopeBundle.maxRecordBytes + 1) >> (8 * (3 - i)))
        }
        #expect(throws: BundleError.self) { try Self.read(over + [UInt8](repeating: 0, count: 100)) }
    }
}

/// `MeshNode.importEnvelope`: the LAN path's validation for envelopes from a bundle.
@Suite("MeshNode import")
struct MeshNodeImportTests {
    static func node(_ keys: SigningKeyPair) -> MeshNode {
        MeshNode(identity: keys, meshKey: .publicDefault, session: 1, seed: 1)
    }

    @Test("a valid envelope is stored (with its message when it is for us), then a duplicate; invalid ones refused")
    func importOutcomes() throws {
        var bob = Self.node(Fixture.bob)
        let sealed = try DirectMessage.seal(
            text: "over the river", from: Fixture.alice, to: Fixture.bob.publicKey, createdAt: Fixture.nowSeconds,
            expiresAt: Fixture.expiry)
        let bytes = sealed.encoded()
        var actions: [MeshNode.Action] = []
        #expect(bob.importEnvelope(bytes, now: Fixture.now, into: &actions) == .imported)
        guard case .store(let stored, let message)? = actions.first, actions.count == 1 else {
            Issue.record("expected one store action, got \(actions)")
            return
        }
        #expect(stored.bytes == bytes)
        #expect(message?.text == "over the river")
        #expect(bob.holds(stored.id))
        actions.removeAll()
        #expect(bob.importEnvelope(bytes, now: Fixture.now, into: &actions) == .duplicate)
        #expect(actions.isEmpty)
        // Expired, and malformed: refused with the LAN path's reasons, nothing stored.
        let late = Fixture.now + Millis(3601 * 1000)
        var carol = Self.node(Fixture.carol)
        #expect(carol.importEnvelope(bytes, now: late, into: &actions) == .refused("expired"))
        #expect(carol.importEnvelope([1, 2, 3], now: Fixture.now, into: &actions) != .imported)
        #expect(actions.isEmpty)
        #expect(carol.counters.values["drop.expired"] == 1)
        // A forged alert is refused.
        let alert = try Alert.sign(
            text: "real", by: Fixture.alice, sequence: 1, createdAt: Fixture.nowSeconds, expiresAt: Fixture.expiry)
        var forged = alert.encoded()
        forged[forged.count - 1] ^= 1
        if case .refused = carol.importEnvelope(forged, now: Fixture.now, into: &actions) {
        } else {
            Issue.record("a forged alert was not refused")
        }
        #expect(actions.isEmpty)
    }

    @Test("forget removes evicted envelopes from the index and the digest")
    func forget() throws {
        var n = Self.node(Fixture.carol)
        let e = Envelope(kind: .channel, expiresAt: Fixture.expiry, body: [1, 2, 3]).encoded()
        var actions: [MeshNode.Action] = []
        let before = n.storeDigest
        #expect(n.importEnvelope(e, now: Fixture.now, into: &actions) == .imported)
        let id = EnvelopeID(ofEncoded: e)
        n.forget([id])
        #expect(!n.holds(id))
        #expect(n.storeDigest == before)
        #expect(n.counters.values["envelopes_evicted"] == 1)
    }
}
