import Testing

@testable import EstafetteCore

/// Hand-checked Negentropy exchanges on a few records, roles and errors. Expected messages were worked out from the
/// spec by hand (fingerprints with Python's hashlib) and checked against the reference C++ harness.
@Suite("Negentropy session")
struct NegentropySessionTests {
    static func id(_ hex: String) -> EnvelopeID { EnvelopeID(bytes: hexBytes(hex)) }

    // Sorted: (1000, aa…), (1000, ab00…), (1001, 0101…).
    static let r0 = NegentropyRecord(timestamp: 1000, id: id(String(repeating: "aa", count: 32)))
    static let r1 = NegentropyRecord(timestamp: 1000, id: id("ab" + String(repeating: "00", count: 31)))
    static let r2 = NegentropyRecord(timestamp: 1001, id: id(String(repeating: "01", count: 32)))
    static let fp0 = "42b5d6e9a824e972398bfe0b80a84fb2"
    static let fp1 = "aae5fd2d74b0e40cffd98ce7927f63b3"
    static let fp2 = "ce041765675ad4d93378e20bd3a7d0d9"

    static func session(
        _ records: [NegentropyRecord], _ splitting: NegentropySplitting = .estafette, limit: Int = 0
    ) throws -> NegentropySession {
        try NegentropySession(storage: NegentropyStorage(records), splitting: splitting, frameSizeLimit: limit)
    }

    @Test("Estafette's initiator sends three records as three one-record fingerprints")
    func initiateEstafette() throws {
        var s = try Self.session([Self.r2, Self.r1, Self.r0])
        let expected =
            "61"
            + "8769" + "01ab" + "01" + Self.fp0  // (1000, ab): the shared prefix of aa… and ab… is empty, plus one byte
            + "02" + "00" + "01" + Self.fp1  // (1001): timestamps differ, 1 + delta 1
            + "00" + "00" + "01" + Self.fp2  // infinity
        #expect(try s.initiate() == hexBytes(expected))
    }

    @Test("the reference's initiator sends fewer than 32 records as one ID list (byte for byte its C++ output)")
    func initiateReference() throws {
        var s = try Self.session([Self.r0, Self.r1, Self.r2], .reference)
        let expected = "61" + "0000" + "02" + "03" + [Self.r0, Self.r1, Self.r2].map(\.id.hex).joined()
        #expect(try s.initiate() == hexBytes(expected))
    }

    @Test("a responder lacking one record answers Skip, then an empty ID list for that record's range")
    func responderAnswers() throws {
        var initiator = try Self.session([Self.r0, Self.r1, Self.r2])
        var responder = try Self.session([Self.r0, Self.r2])
        let reply = try responder.respond(to: try initiator.initiate())
        #expect(reply == hexBytes("61" + "876901ab" + "00" + "0200" + "02" + "00"))
        let r = try initiator.reconcile(reply)
        #expect(r.have == [Self.r1.id])
        #expect(r.need == [])
        #expect(r.reply == nil)
        #expect(initiator.isFinished)
        #expect(throws: NegentropyError.finished) { try initiator.reconcile(reply) }
    }

    @Test("identical sets: the responder answers the version byte alone and the initiator is done")
    func identical() throws {
        var initiator = try Self.session([Self.r0, Self.r1, Self.r2])
        var responder = try Self.session([Self.r0, Self.r1, Self.r2])
        let reply = try responder.respond(to: try initiator.initiate())
        #expect(reply == [0x61])
        let r = try initiator.reconcile(reply)
        #expect(r == .init(reply: nil, have: [], need: []))
    }

    @Test("an ID list for the whole space is answered with every ID (the reference's protoversion.pl check)")
    func wholeSpaceIDList() throws {
        let e = NegentropyRecord(timestamp: 12345, id: Self.id(String(repeating: "ee", count: 32)))
        var responder = try Self.session([e])
        #expect(try responder.respond(to: hexBytes("6100000200")) == hexBytes("6100000201" + e.id.hex))
    }

    @Test("a newer protocol version is answered with 0x61, and the session then speaks v1")
    func versionNegotiation() throws {
        let e = NegentropyRecord(timestamp: 12345, id: Self.id(String(repeating: "ee", count: 32)))
        var responder = try Self.session([e])
        #expect(try responder.respond(to: hexBytes("62aabbccddeeff")) == [0x61])
        #expect(try responder.respond(to: hexBytes("6100000200")) == hexBytes("6100000201" + e.id.hex))
    }

    @Test("an initiator answered in another version fails, and stays failed")
    func initiatorRejectsOtherVersion() throws {
        var s = try Self.session([Self.r0])
        _ = try s.initiate()
        #expect(throws: NegentropyError.unsupportedVersion(0x62)) { try s.reconcile([0x62]) }
        #expect(throws: NegentropyError.failed) { try s.reconcile([0x61]) }
    }

    @Test("a responder that gets malformed bytes fails, and stays failed")
    func responderFails() throws {
        var s = try Self.session([Self.r0])
        #expect(throws: NegentropyError.badMode(9)) { try s.respond(to: hexBytes("61000009")) }
        #expect(throws: NegentropyError.failed) { try s.respond(to: [0x61]) }
    }

    @Test("calls out of role are refused")
    func roles() throws {
        var fresh = try Self.session([Self.r0])
        #expect(throws: NegentropyError.self) { try fresh.reconcile([0x61]) }
        var initiator = try Self.session([Self.r0])
        _ = try initiator.initiate()
        #expect(throws: NegentropyError.self) { try initiator.initiate() }
        #expect(throws: NegentropyError.self) { try initiator.respond(to: [0x61]) }
        var responder = try Self.session([Self.r0])
        _ = try responder.respond(to: [0x61])
        #expect(throws: NegentropyError.self) { try responder.initiate() }
        #expect(throws: NegentropyError.self) { try responder.reconcile([0x61]) }
    }

    @Test("a frame size limit is 0 (none) or at least 4096 bytes")
    func frameSizeLimitMinimum() throws {
        #expect(throws: NegentropyError.frameSizeLimitTooSmall(4095)) { try Self.session([], limit: 4095) }
        _ = try Self.session([], limit: 4096)
        _ = try Self.session([], limit: 0)
    }

    @Test("splitting rules are checked so that any one range's answer fits the smallest frame")
    func splittingBounds() throws {
        _ = try NegentropySplitting(buckets: 60, idListBelow: 115, initiatorSendsIdLists: true)
        #expect(throws: NegentropyError.self) {
            try NegentropySplitting(buckets: 61, idListBelow: 32, initiatorSendsIdLists: true)
        }
        #expect(throws: NegentropyError.self) {
            try NegentropySplitting(buckets: 1, idListBelow: 32, initiatorSendsIdLists: true)
        }
        #expect(throws: NegentropyError.self) {
            try NegentropySplitting(buckets: 16, idListBelow: 1, initiatorSendsIdLists: true)
        }
        #expect(throws: NegentropyError.self) {
            try NegentropySplitting(buckets: 16, idListBelow: 116, initiatorSendsIdLists: true)
        }
    }

    // MARK: - Storage

    @Test("storage sorts by timestamp then ID bytes, and rejects duplicates and the reserved timestamp")
    func storageRules() throws {
        let s = try NegentropyStorage([Self.r2, Self.r0, Self.r1])
        #expect(s.records == [Self.r0, Self.r1, Self.r2])
        #expect(throws: NegentropyError.duplicateRecord(Self.r1)) {
            try NegentropyStorage([Self.r1, Self.r0, Self.r1])
        }
        let reserved = NegentropyRecord(timestamp: .max, id: Self.r0.id)
        #expect(throws: NegentropyError.reservedTimestamp) { try NegentropyStorage([Self.r0, reserved]) }
        #expect(throws: NegentropyError.unsortedRecords(at: 1)) { try NegentropyStorage(sorted: [Self.r1, Self.r0]) }
    }

    @Test("range fingerprints from block prefix sums equal fingerprints summed record by record")
    func storageFingerprints() throws {
        var rng = SplitMix64(seed: 3)
        let records = (0..<1000).map { i in
            NegentropyRecord(timestamp: UInt64(i / 4), id: EnvelopeID(bytes: Fixture.bytes(32, using: &rng)))
        }
        let storage = try NegentropyStorage(records)
        for _ in 0..<300 {
            let a = Int.random(in: 0...1000, using: &rng)
            let b = Int.random(in: a...1000, using: &rng)
            var acc = NegentropyAccumulator.zero
            for r in storage.records[a..<b] { acc.add(r.id) }
            #expect(storage.fingerprint(a..<b) == acc.fingerprint(count: b - a))
        }
    }

    @Test("a bound falls before the first record at or above it")
    func storageLowerBound() throws {
        let s = try NegentropyStorage([Self.r0, Self.r1, Self.r2])
        #expect(s.lowerBound(of: .zero, in: 0..<3) == 0)
        #expect(s.lowerBound(of: NegentropyBound(timestamp: 1000, prefix: [0xAB]), in: 0..<3) == 1)
        #expect(s.lowerBound(of: NegentropyBound(timestamp: 1000, prefix: [0xAB, 0x00, 0x01]), in: 0..<3) == 2)
        #expect(s.lowerBound(of: NegentropyBound(exactly: Self.r2), in: 0..<3) == 2)
        #expect(s.lowerBound(of: .infinity, in: 0..<3) == 3)
        #expect(s.lowerBound(of: .zero, in: 2..<3) == 2)
    }
}
