import Testing

@testable import EstafetteCore

/// Whole reconciliations between two sessions: both sides must end knowing exactly the IDs they lack, within the
/// frame size limit, whatever the splitting rules of either side.
@Suite("Negentropy round trips")
struct NegentropyRoundTripTests {
    struct Outcome {
        var have: [EnvelopeID] = []
        var need: [EnvelopeID] = []
        var messages = 0
        var bytes = 0
        var largestMessage = 0
    }

    /// Runs a session between an initiator holding `a` and a responder holding `b`.
    static func reconcile(
        _ a: [NegentropyRecord], _ b: [NegentropyRecord],
        splitting: (NegentropySplitting, NegentropySplitting) = (.estafette, .estafette),
        limits: (Int, Int) = (0, 0)
    ) throws -> Outcome {
        var initiator = try NegentropySession(
            storage: NegentropyStorage(a), splitting: splitting.0, frameSizeLimit: limits.0)
        var responder = try NegentropySession(
            storage: NegentropyStorage(b), splitting: splitting.1, frameSizeLimit: limits.1)
        var outcome = Outcome()
        var message = try initiator.initiate()
        while true {
            outcome.messages += 1
            outcome.bytes += message.count
            outcome.largestMessage = max(outcome.largestMessage, message.count)
            if limits.0 > 0 { #expect(message.count <= limits.0) }
            let reply = try responder.respond(to: message)
            outcome.messages += 1
            outcome.bytes += reply.count
            if limits.1 > 0 { #expect(reply.count <= limits.1) }
            let r = try initiator.reconcile(reply)
            outcome.have += r.have
            outcome.need += r.need
            guard let next = r.reply else { break }
            message = next
            try #require(outcome.messages < 1000, "no end in sight")
        }
        return outcome
    }

    /// Checks that `outcome` is exactly the difference of the two sets, each ID once.
    static func expectExact(_ outcome: Outcome, _ a: [NegentropyRecord], _ b: [NegentropyRecord]) {
        let ida = Set(a.map(\.id))
        let idb = Set(b.map(\.id))
        #expect(Set(outcome.have) == ida.subtracting(idb))
        #expect(Set(outcome.need) == idb.subtracting(ida))
        #expect(outcome.have.count == Set(outcome.have).count)
        #expect(outcome.need.count == Set(outcome.need).count)
    }

    static func randomRecord(_ timestamp: UInt64, _ rng: inout SplitMix64) -> NegentropyRecord {
        NegentropyRecord(timestamp: timestamp, id: EnvelopeID(bytes: Fixture.bytes(32, using: &rng)))
    }

    /// `common` shared records plus `onlyA` and `onlyB` extra ones; timestamps over `span` seconds, or only a few
    /// distinct timestamps (so bounds need ID prefixes) when `span` is small.
    static func sets(
        common: Int, onlyA: Int, onlyB: Int, span: UInt64, seed: UInt64
    ) -> ([NegentropyRecord], [NegentropyRecord]) {
        var rng = SplitMix64(seed: seed)
        let base: UInt64 = 1_700_000_000
        func some(_ n: Int) -> [NegentropyRecord] {
            (0..<n).map { _ in randomRecord(base + UInt64.random(in: 0..<span, using: &rng), &rng) }
        }
        let shared = some(common)
        return (shared + some(onlyA), shared + some(onlyB))
    }

    static let rules: [(NegentropySplitting, NegentropySplitting)] = [
        (.estafette, .estafette), (.reference, .reference), (.estafette, .reference), (.reference, .estafette),
    ]

    @Test(
        "random small sets, every pairing of splitting rules, with and without a 4096-byte frame limit",
        arguments: 0..<40)
    func smallRandom(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let (a, b) = Self.sets(
            common: Int.random(in: 0...400, using: &rng), onlyA: Int.random(in: 0...60, using: &rng),
            onlyB: Int.random(in: 0...60, using: &rng), span: [3, 1000, 604_800][seed % 3], seed: UInt64(seed))
        for rules in Self.rules {
            for limits in [(0, 0), (4096, 4096)] {
                let outcome = try Self.reconcile(a, b, splitting: rules, limits: limits)
                Self.expectExact(outcome, a, b)
            }
        }
    }

    @Test("IDs that share 24 leading bytes, some in pairs that share 31, all at one timestamp: long bound prefixes")
    func longPrefixes() throws {
        // Fingerprints are sums, so IDs that differ only in a byte or two could collide by construction (sets
        // {…1a, …25} and {…1c, …23} sum alike); real IDs are hashes. The tails here are random, and the pairs that
        // share 31 bytes are on both sides, so every difference carries a random 64-bit part.
        var rng = SplitMix64(seed: 99)
        let stem = Fixture.bytes(24, using: &rng)
        var common: [NegentropyRecord] = []
        var a: [NegentropyRecord] = []
        var b: [NegentropyRecord] = []
        for i in 0..<2000 {
            let bytes = stem + Fixture.bytes(8, using: &rng)
            let record = NegentropyRecord(timestamp: 42, id: EnvelopeID(bytes: bytes))
            if i % 10 == 0 {
                common.append(record)
                common.append(
                    NegentropyRecord(timestamp: 42, id: EnvelopeID(bytes: bytes.dropLast() + [bytes[31] ^ 1])))
            } else {
                if i % 7 != 0 { a.append(record) }
                if i % 11 != 3 { b.append(record) }
            }
        }
        a += common
        b += common
        let sorted = try NegentropyStorage(a).records
        let longest = zip(sorted, sorted.dropFirst()).map { NegentropyBound.between($0, $1).prefixLength }.max()
        #expect(longest == 32)
        for rules in Self.rules {
            Self.expectExact(try Self.reconcile(a, b, splitting: rules, limits: (4096, 4096)), a, b)
            Self.expectExact(try Self.reconcile(a, b, splitting: rules), a, b)
        }
    }

    @Test("one side empty, in either role")
    func oneSideEmpty() throws {
        let (a, _) = Self.sets(common: 5000, onlyA: 0, onlyB: 0, span: 604_800, seed: 5)
        for rules in Self.rules {
            Self.expectExact(try Self.reconcile(a, [], splitting: rules), a, [])
            Self.expectExact(try Self.reconcile([], a, splitting: rules), [], a)
            Self.expectExact(try Self.reconcile([], a, splitting: rules, limits: (4096, 4096)), [], a)
        }
    }

    @Test("a frame limit of 4096 bytes holds on 20,000 records that differ by a third")
    func tightFrames() throws {
        let (a, b) = Self.sets(common: 20_000, onlyA: 5000, onlyB: 5000, span: 604_800, seed: 8)
        for rules in [Self.rules[0], Self.rules[1]] {
            let outcome = try Self.reconcile(a, b, splitting: rules, limits: (4096, 4096))
            Self.expectExact(outcome, a, b)
            #expect(outcome.largestMessage <= 4096)
        }
    }

    // MARK: - 100,000 records

    /// 100,000 records over a week on each side; `differing` of them (half on each side) are either the newest
    /// (a node back after an hour away) or spread over the whole week.
    static func week(differing: Int, newest: Bool, seed: UInt64) -> ([NegentropyRecord], [NegentropyRecord]) {
        var rng = SplitMix64(seed: seed)
        let base: UInt64 = 1_700_000_000
        let week: UInt64 = 604_800
        var all = (0..<(100_000 + differing / 2)).map { _ in
            randomRecord(base + UInt64.random(in: 0..<week, using: &rng), &rng)
        }
        all.sort()
        let chosen: [Int] =
            newest
            ? Array((all.count - differing)..<all.count)
            : Array((0..<all.count).shuffled(using: &rng).prefix(differing))
        let onlyA = Set(chosen.prefix(differing / 2))
        let onlyB = Set(chosen.suffix(differing - differing / 2))
        let a = all.enumerated().filter { !onlyB.contains($0.offset) }.map(\.element)
        let b = all.enumerated().filter { !onlyA.contains($0.offset) }.map(\.element)
        return (a, b)
    }

    @Test("100,000 records a side, the 100 newest differ: exact, under 16 KiB")
    func hundredThousandNewest() throws {
        let (a, b) = Self.week(differing: 100, newest: true, seed: 1)
        let outcome = try Self.reconcile(a, b)
        Self.expectExact(outcome, a, b)
        #expect(outcome.bytes < 16 * 1024)
    }

    @Test("100,000 records a side, 100 differ spread over the week: exact, under 128 KiB")
    func hundredThousandSpread() throws {
        let (a, b) = Self.week(differing: 100, newest: false, seed: 2)
        let outcome = try Self.reconcile(a, b)
        Self.expectExact(outcome, a, b)
        #expect(outcome.bytes < 128 * 1024)
        #expect(outcome.messages <= 4)
    }

    @Test("100,000 records against none, in either role, with a 60,000-byte frame limit")
    func hundredThousandAgainstEmpty() throws {
        let (a, _) = Self.week(differing: 0, newest: false, seed: 3)
        Self.expectExact(try Self.reconcile(a, [], limits: (60_000, 60_000)), a, [])
        let fromEmpty = try Self.reconcile([], a, limits: (60_000, 60_000))
        Self.expectExact(fromEmpty, [], a)
        #expect(fromEmpty.largestMessage <= 60_000)
    }

    // MARK: - Hostile input

    @Test("random bytes after a valid version byte never trap either role")
    func randomGarbage() throws {
        var rng = SplitMix64(seed: 1234)
        let (a, _) = Self.sets(common: 500, onlyA: 0, onlyB: 0, span: 1000, seed: 4)
        let storage = try NegentropyStorage(a)
        for i in 0..<3000 {
            let body = Fixture.bytes(Int.random(in: 0...200, using: &rng), using: &rng)
            let message = [UInt8(0x61)] + body
            var responder = try NegentropySession(storage: storage, frameSizeLimit: i % 2 == 0 ? 0 : 4096)
            if let reply = try? responder.respond(to: message), i % 2 == 1 { #expect(reply.count <= 4096) }
            var initiator = try NegentropySession(storage: storage)
            _ = try initiator.initiate()
            _ = try? initiator.reconcile(message)
        }
    }
}
