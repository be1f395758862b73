import Testing

@testable import EstafetteCore

@Suite("Node types")
struct TypesTests {
    @Test("SplitMix64 matches the reference sequence and is reproducible per seed")
    func splitMix() {
        var rng = SplitMix64(seed: 0)
        #expect(
            [rng.next(), rng.next(), rng.next()] == [
                0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F,
            ])
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var c = SplitMix64(seed: 43)
        let first = (0..<10).map { _ in a.next() }
        #expect(first == (0..<10).map { _ in b.next() })
        #expect(first != (0..<10).map { _ in c.next() })
    }

    @Test("counters start at zero and accumulate")
    func counters() {
        var counters = Counters()
        #expect(counters["drop.bad_mac"] == 0)
        counters.add("drop.bad_mac")
        counters.add("drop.bad_mac", 4)
        #expect(counters["drop.bad_mac"] == 5)
        #expect(counters.values == ["drop.bad_mac": 5])
    }

    @Test("peer addresses print IPv6 hosts in brackets")
    func addressDescription() {
        #expect(PeerAddress(host: "192.168.1.2", port: 4747, interface: 0).description == "192.168.1.2:4747")
        #expect(PeerAddress(host: "fe80::1", port: 4747, interface: 1).description == "[fe80::1]:4747")
    }
}
