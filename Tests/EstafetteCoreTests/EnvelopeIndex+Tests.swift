import Testing

@testable import EstafetteCore

@Suite("EnvelopeIndex: one table by prefix")
struct EnvelopeIndexTests {
    static func id(_ w0: UInt64, _ w3: UInt64 = 7) -> EnvelopeID { EnvelopeID(w0: w0, w1: 1, w2: 2, w3: w3) }

    @Test("found by ID and by prefix; a second ID with a held prefix is refused, the first stays")
    func prefixes() {
        var index = EnvelopeIndex()
        let results = [
            index.insert(Self.id(10), expiresAt: 100), index.insert(Self.id(10), expiresAt: 100),
            index.insert(Self.id(10, 8), expiresAt: 200),
        ]
        #expect(results == [.inserted, .present, .prefixTaken])
        #expect(index.count == 1)
        #expect(index.contains(Self.id(10)) && !index.contains(Self.id(10, 8)))
        #expect(index.id(prefix: 10) == Self.id(10))
        #expect(index.expiry(of: Self.id(10)) == 100 && index.expiry(of: Self.id(10, 8)) == nil)
        let twinRemoved = index.remove(Self.id(10, 8))
        #expect(!twinRemoved, "removing the refused twin must not remove the held ID")
        #expect(index.contains(Self.id(10)))
        let removed = index.remove(Self.id(10))
        #expect(removed && index.count == 0 && !index.hasPrefix(10))
    }

    @Test("expired, every entry, and sorted prefixes agree with a plain dictionary")
    func agreesWithDictionary() {
        var index = EnvelopeIndex()
        var plain: [EnvelopeID: UInt64] = [:]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let id = EnvelopeID(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
            let expiry = rng.next() % 1_000
            if rng.next() % 4 == 0, let victim = plain.keys.first {
                let removed = index.remove(victim)
                #expect(removed)
                plain[victim] = nil
            }
            let inserted = index.insert(id, expiresAt: expiry)
            #expect(inserted == .inserted)
            plain[id] = expiry
        }
        #expect(index.count == plain.count)
        #expect(Set(index.expired(atOrBefore: 500)) == Set(plain.filter { $0.value <= 500 }.keys))
        var seen: [EnvelopeID: UInt64] = [:]
        index.forEach { seen[$0] = $1 }
        #expect(seen == plain)
        #expect(index.sortedPrefixes() == plain.keys.map(\.prefix).sorted())
    }

    @Test("a store snapshot that is sorted is used as it is; anything else is sorted and cleaned")
    func snapshotRecords() {
        let a = NegentropyRecord(timestamp: 5, id: Self.id(1))
        let b = NegentropyRecord(timestamp: 5, id: Self.id(2))
        let c = NegentropyRecord(timestamp: 9, id: Self.id(0))
        let reserved = NegentropyRecord(timestamp: .max, id: Self.id(3))
        #expect(RelayLinkStateMachine.sortedUnique([a, b, c]) == [a, b, c])
        #expect(RelayLinkStateMachine.sortedUnique([c, a, b, a, reserved, c]) == [a, b, c])
        #expect(RelayLinkStateMachine.sortedUnique([]) == [])
    }
}
