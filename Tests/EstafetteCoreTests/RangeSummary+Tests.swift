import Testing

@testable import EstafetteCore

/// Range summaries (`MeshNode.Settings.rangeSummaries`, issue 11): the summary packet's codec and its bounds, and
/// how a node compares a summary with its own store. See docs/protocol.md ("Range summaries").
@Suite("Range summaries")
struct RangeSummaryTests {
    static let key = MeshKey.publicDefault
    static let peer = PeerAddress(host: "10.0.0.2", port: 1, interface: 0)
    static let store: [EnvelopeID: StoredEnvelope] = [:]

    static func fp(_ b: UInt8) -> NegentropyFingerprint {
        NegentropyFingerprint(bytes: [UInt8](repeating: b, count: 16))
    }

    static let samples: [Packet] = [
        .summary(
            lo: 0, hi: .max, count: 0, digest: .zero,
            ranges: [SummaryRange(upperBound: .max, count: 0, fingerprint: fp(0))]),
        .summary(
            lo: 10, hi: 1_000, count: 100_000, digest: EnvelopeID(bytes: [UInt8](repeating: 7, count: 32)),
            ranges: (1...Packet.maxSummaryRanges).map {
                SummaryRange(
                    upperBound: $0 == Packet.maxSummaryRanges ? 1_000 : UInt64(10 + $0), count: UInt32($0),
                    fingerprint: fp(UInt8($0)))
            }),
    ]

    static func ids(_ n: Int, seed: UInt64) -> [EnvelopeID] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in EnvelopeID(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
    }

    static func node(session: UInt64, holding ids: [EnvelopeID], gate: Bool = true) -> MeshNode {
        var settings = MeshNode.Settings()
        settings.rangeSummaries = gate
        var node = MeshNode(identity: Fixture.bob, meshKey: key, session: session, seed: session, settings: settings)
        node.load(ids.map { ($0, Fixture.expiry) }, now: Fixture.now)
        // Answers paid (as MeshHarness funds them): the amplification bound is the hostile tests' business.
        node.repair.answers = AnswerCredit(cap: .infinity, lifetime: .max)
        node.repair.answers.deposit(.infinity, to: peer.source, now: Fixture.now)
        return node
    }

    /// The summary or inventory packets a node multicasts once its repair timer fires (it fires for everything
    /// queued: the delays are under a repair window).
    static func answers(_ node: inout MeshNode, after now: Millis) throws -> [Packet] {
        try MeshNodeTests.packetsToAll(
            node.timerFired(.repair, now: now + MeshNode.Settings().repairWindowMillis, store: store))
    }

    // MARK: - Codec

    @Test("a summary survives seal and open, and the largest fits one datagram", arguments: samples)
    func roundTrip(packet: Packet) throws {
        let datagram = Self.key.seal(packet, session: 9)
        #expect(datagram.count <= Packet.maxDatagramBytes)
        let (session, opened) = try Self.key.open(datagram)
        #expect(session == 9 && opened == packet && packet.type == 9)
    }

    static func payload(lo: UInt64, hi: UInt64, count: UInt32, n: UInt8, ranges: [(UInt64, UInt32)]) -> [UInt8] {
        var bytes = be(lo) + be(hi) + be(count) + [UInt8](repeating: 0, count: 32) + [n]
        for (upper, c) in ranges { bytes += be(upper) + be(c) + [UInt8](repeating: 1, count: 16) }
        return bytes
    }

    @Test("malformed summaries are refused with their reason, and a node counts them by it")
    func malformed() throws {
        let good = Self.payload(lo: 0, hi: 100, count: 5, n: 2, ranges: [(50, 2), (100, 3)])
        #expect(throws: Never.self) { try Packet.decodePayload(type: 9, good) }
        let cases: [(bytes: [UInt8], reason: String)] = [
            (Array(good.dropLast(1)), "truncated"),
            (Array(good.prefix(40)), "truncated"),
            (good + [0], "trailing_bytes"),
            (Self.payload(lo: 0, hi: 100, count: 5, n: 0, ranges: []), "oversized"),
            (Self.payload(lo: 0, hi: 100, count: 5, n: 33, ranges: (0..<33).map { (UInt64($0), 0) }), "oversized"),
            (Self.payload(lo: 0, hi: 100, count: 5, n: 2, ranges: [(60, 2), (60, 3)]), "invalid"),  // not ascending
            (Self.payload(lo: 0, hi: 100, count: 5, n: 2, ranges: [(50, 2), (99, 3)]), "invalid"),  // not ending at hi
            (Self.payload(lo: 10, hi: 100, count: 5, n: 2, ranges: [(5, 2), (100, 3)]), "invalid"),  // below lo
            (Self.payload(lo: 200, hi: 100, count: 5, n: 1, ranges: [(100, 3)]), "invalid"),  // lo above hi
            (Self.payload(lo: 0, hi: 100, count: 4, n: 2, ranges: [(50, 2), (100, 3)]), "invalid"),  // above count
        ]
        var node = Self.node(session: 1, holding: [])
        for (bytes, reason) in cases {
            #expect(throws: WireError.self) { try Packet.decodePayload(type: 9, bytes) }
            do {
                _ = try Packet.decodePayload(type: 9, bytes)
            } catch {
                #expect(error.reason == reason, "\(error)")
            }
            let before = node.counters["drop.\(reason)"]
            _ = node.receive(
                Self.key.sealRaw([9] + be(UInt64(2)) + bytes), from: Self.peer, now: Fixture.now, store: Self.store)
            #expect(node.counters["drop.\(reason)"] == before + 1, "\(reason)")
        }
    }

    @Test("the fingerprint is the documented one (the attack tool's `range_fingerprint` gives the same bytes)")
    func fingerprintMatchesTheSpec() {
        let ids = [
            EnvelopeID(bytes: Array(0..<32)), EnvelopeID(bytes: Array(32..<64)),
            EnvelopeID(bytes: [UInt8](repeating: 255, count: 32)),
        ]
        var node = Self.node(session: 1, holding: ids)
        let fingerprints = node.rangeFingerprints()
        #expect(fingerprints.fingerprint(0..<3).description == "d3b612a5842da63aa4a8a6afaa751d5c")
        #expect(fingerprints.fingerprint(0..<0).description == "7f9c9e31ac8256ca2f258583df262dbc")
    }

    // MARK: - Comparison

    @Test("a round of a large store is one summary of 16 sub-ranges that add up to the store")
    func roundIsASummary() throws {
        let ids = Self.ids(5_000, seed: 1)
        var a = Self.node(session: 1, holding: ids)
        let beacon = Self.key.seal(.beacon(count: 0, digest: .zero), session: 2)
        _ = a.receive(beacon, from: Self.peer, now: Fixture.now, store: Self.store)
        let sent = try Self.answers(&a, after: Fixture.now)
        #expect(sent.count == 1)
        guard case .summary(let lo, let hi, let count, _, let ranges) = try #require(sent.first) else {
            Issue.record("not a summary: \(sent)")
            return
        }
        #expect(lo == 0 && hi == .max && count == 5_000 && ranges.count == MeshNode.summaryWays)
        #expect(ranges.reduce(0) { $0 + Int($1.count) } == 5_000)

        // The same store without the gate sends pages, as before.
        var old = Self.node(session: 1, holding: ids, gate: false)
        _ = old.receive(beacon, from: Self.peer, now: Fixture.now, store: Self.store)
        let pages = try Self.answers(&old, after: Fixture.now)
        #expect(pages.count == MeshNode.Settings().inventoryPagesPerRound)
        #expect(pages.allSatisfy { if case .inventory = $0 { true } else { false } })
    }

    @Test("a node holding the same store answers nothing; one lacking a few answers only where they are")
    func compare() throws {
        let ids = Self.ids(5_000, seed: 2)
        var a = Self.node(session: 1, holding: ids)
        let summary = Packet.summary(
            lo: 0, hi: .max, count: 5_000, digest: a.storeDigest.digest,
            ranges: a.rangeFingerprints().summary(lo: 0, hi: .max, ways: 16))
        let datagram = Self.key.seal(summary, session: 1)

        var same = Self.node(session: 2, holding: ids)
        #expect(
            MeshNodeTests.multicasts(same.receive(datagram, from: Self.peer, now: Fixture.now, store: Self.store))
                .isEmpty)
        #expect(same.repair.rangeAnswers.isEmpty)

        // B lacks three IDs, in three different sub-ranges (or fewer, if two fall together).
        let lacking = [ids[10], ids[2_000], ids[4_000]]
        var b = Self.node(session: 2, holding: ids.filter { !lacking.contains($0) })
        _ = b.receive(datagram, from: Self.peer, now: Fixture.now, store: Self.store)
        let answers = try Self.answers(&b, after: Fixture.now)
        #expect((1...3).contains(answers.count))
        for answer in answers {
            // Each a finer summary of exactly one differing sub-range, holding one of the lacking IDs' prefixes.
            guard case .summary(let lo, let hi, _, _, let ranges) = answer else {
                Issue.record("not a summary: \(answer)")
                continue
            }
            // As many sub-ranges in all as the summary answered had: 16 / k each where k differ (at least 2).
            #expect(ranges.count == max(2, MeshNode.summaryWays / answers.count))
            #expect(lacking.contains { (lo...hi).contains($0.prefix) })
        }

        // The two descend, each answering only where it differs, until A's pages list what B lacks and B asks
        // for exactly that.
        var toA = answers
        var wanted: Set<UInt64> = []
        var now = Fixture.now
        var pagesOfA = 0
        for _ in 0..<8 where wanted.isEmpty {
            now += 1_000
            for p in toA { _ = a.receive(Self.key.seal(p, session: 2), from: Self.peer, now: now, store: Self.store) }
            let toB = try Self.answers(&a, after: now)
            #expect(!toB.isEmpty, "A answers where it differs")
            for p in toB {
                if case .inventory(let lo, let hi, let count, _, let prefixes) = p {
                    pagesOfA += 1
                    #expect(count == 5_000 && prefixes.count <= MeshNode.rangePageLimit && !(lo == 0 && hi == .max))
                }
            }
            now += 1_000
            for p in toB { _ = b.receive(Self.key.seal(p, session: 1), from: Self.peer, now: now, store: Self.store) }
            toA = try Self.answers(&b, after: now)
            for case .want(_, _, let p) in toA { wanted.formUnion(p) }
            toA = toA.filter { if case .want = $0 { false } else { true } }
        }
        #expect(pagesOfA > 0)
        #expect(wanted == Set(lacking.map(\.prefix)))
    }

    @Test("forged summaries twice a second for 10 s are answered with at most 10× their bytes (property 5)")
    func amplification() {
        var settings = MeshNode.Settings()
        settings.rangeSummaries = true
        var node = MeshNode(identity: Fixture.bob, meshKey: Self.key, session: 1, seed: 1, settings: settings)
        node.load(Self.ids(5_000, seed: 6).map { ($0, Fixture.expiry) }, now: Fixture.now)
        let attacker = PeerAddress(host: "10.0.0.66", port: 1, interface: 0)
        var rng = SplitMix64(seed: 7)
        var asked = 0
        var answered = 0
        var now = Fixture.now
        for i in 0..<20 {
            // Alternately the whole space in 32 parts of made-up counts (each answered with a finer summary) and
            // a narrow range in 32 parts claiming nothing (each answered with a page).
            let whole = i % 2 == 0
            let lo: UInt64 = whole ? 0 : rng.next() >> 1
            let width: UInt64 = whole ? .max / 32 : 1 << 54
            let ranges = (0..<32).map { k in
                SummaryRange(
                    upperBound: k == 31 ? (whole ? .max : lo + 32 * width) : lo + UInt64(k + 1) * width,
                    count: whole ? 150 : 0, fingerprint: Self.fp(UInt8(truncatingIfNeeded: rng.next())))
            }
            let hi = ranges.last!.upperBound
            let summary = Self.key.seal(
                .summary(lo: lo, hi: hi, count: whole ? 4_800 : 0, digest: .zero, ranges: ranges), session: 77)
            asked += summary.count
            answered += HostileBoundsTests.multicastBytes(
                node.receive(summary, from: attacker, now: now, store: Self.store))
            for _ in 0..<5 {
                now += 100
                answered += HostileBoundsTests.multicastBytes(node.timerFired(.repair, now: now, store: Self.store))
            }
        }
        #expect(answered > 0, "summaries are still answered")
        #expect(Double(answered) <= 10 * Double(asked), "asked \(asked) B, answered \(answered) B")
        // Measured: 20,020 B asked, 72,664 B answered (480 answers; 160 not repeated within 1.2 s).
    }

    @Test("a whole-space summary whose sub-ranges do not add up to its count is junk")
    func inconsistentWhole() {
        var node = Self.node(session: 1, holding: Self.ids(10, seed: 3))
        let forged = Packet.summary(
            lo: 0, hi: .max, count: 10, digest: .zero,
            ranges: [SummaryRange(upperBound: .max, count: 3, fingerprint: Self.fp(1))])
        _ = node.receive(Self.key.seal(forged, session: 5), from: Self.peer, now: Fixture.now, store: Self.store)
        #expect(node.counters["drop.summary_inconsistent"] == 1)
        #expect(node.repair.rangeAnswers.isEmpty)
    }

    @Test("without the gate a summary is ignored")
    func gateOff() {
        var node = Self.node(session: 1, holding: Self.ids(10, seed: 4), gate: false)
        let summary = Packet.summary(
            lo: 0, hi: .max, count: 3, digest: .zero,
            ranges: [SummaryRange(upperBound: .max, count: 3, fingerprint: Self.fp(1))])
        let actions = node.receive(
            Self.key.seal(summary, session: 5), from: Self.peer, now: Fixture.now, store: Self.store)
        #expect(MeshNodeTests.multicasts(actions).isEmpty)
        #expect(node.counters["summaries_ignored"] == 1)
    }
}
