import EstafetteCore
import Testing

@testable import EstafetteNode

@Suite("Relay addresses and reconnection backoff")
struct RelayAddressTests {
    @Test func parsesHostPortForms() {
        #expect(RelayAddress("relay.example.org:4546") == RelayAddress("relay.example.org:4546"))
        let v4 = RelayAddress("192.0.2.7:4546")
        #expect(v4?.host == "192.0.2.7" && v4?.port == 4546)
        let v6 = RelayAddress("[2001:db8::7]:4546")
        #expect(v6?.host == "2001:db8::7" && v6?.port == 4546)
        #expect(v6?.description == "[2001:db8::7]:4546")
        for bad in ["relay", "relay:", ":4546", "relay:0", "relay:65536", "relay:x", "[]:1"] {
            #expect(RelayAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func backoffDoublesToItsCapWithJitterAndResets() {
        var b = RelayBackoff(initialMillis: 1_000, maxMillis: 60_000)
        // With the jitter factor at its middle (random 0.5 → ×1.0) the delays are the plain doubling.
        let plain = (0..<9).map { _ in b.next(random: 0.5) }
        #expect(plain == [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000])
        #expect(b.next(random: 0) == 30_000)
        #expect(b.next(random: 0.999) <= 90_000 && b.next(random: 0.999) >= 89_000)
        b.reset()
        #expect(b.next(random: 0.5) == 1_000)
        // Many attempts never overflow.
        for _ in 0..<100 { _ = b.next(random: 0.99) }
        #expect(b.next(random: 0.5) == 60_000)
    }
}
