import Testing

@testable import EstafetteNode

/// When a node also broadcasts (`lan.broadcast = "auto"`): the rule the transport follows, on a virtual clock.
@Suite("LAN paths: the broadcast fallback's rule")
struct LANPathsTests {
    static let window: Int64 = 10_000

    static func paths(_ mode: LANBroadcast = .auto) -> LANPaths {
        LANPaths(mode: mode, interfaceCount: 2, windowMillis: window, staticHosts: [], nowMillis: 0)
    }

    @Test("a node on a LAN where multicast works never broadcasts")
    func multicastWorks() {
        var p = Self.paths()
        #expect(!p.broadcastActive(0, now: 0), "starts as if multicast had just been heard")
        for t in stride(from: Int64(1_000), through: 60_000, by: 5_000) {
            #expect(p.heard(interface: 0, source: "10.0.0.2", byBroadcast: false, nowMillis: t) == nil)
            #expect(!p.broadcastActive(0, now: t + 1))
        }
        // A peer that is heard both ways (it is probing) does not turn it on either.
        #expect(p.heard(interface: 0, source: "10.0.0.2", byBroadcast: true, nowMillis: 60_001) == nil)
        #expect(!p.broadcastActive(0, now: 60_002))
    }

    @Test("alone or behind a filter for a window: broadcast; multicast heard again: off")
    func silenceTurnsItOn() {
        var p = Self.paths()
        #expect(!p.broadcastActive(0, now: Self.window))
        #expect(p.broadcastActive(0, now: Self.window + 1))
        #expect(p.broadcastActive(1, now: Self.window + 1), "each interface on its own clock")
        #expect(p.heard(interface: 0, source: "10.0.0.2", byBroadcast: false, nowMillis: 20_000) == false)
        #expect(!p.broadcastActive(0, now: 20_001))
        #expect(p.broadcastActive(1, now: 20_001))
    }

    @Test("a peer heard only by broadcast turns it on for a window, though multicast works for others")
    func broadcastOnlyPeer() {
        var p = Self.paths()
        _ = p.heard(interface: 0, source: "10.0.0.2", byBroadcast: false, nowMillis: 1_000)
        #expect(p.heard(interface: 0, source: "10.0.0.9", byBroadcast: true, nowMillis: 2_000) == true)
        #expect(p.broadcastActive(0, now: 2_001))
        #expect(!p.broadcastActive(1, now: 2_001), "only on the interface it was heard on")
        // 10.0.0.2 keeps multicasting; 10.0.0.9 goes quiet: off after the window.
        _ = p.heard(interface: 0, source: "10.0.0.2", byBroadcast: false, nowMillis: 9_000)
        #expect(p.broadcastActive(0, now: 2_000 + Self.window - 1))
        #expect(!p.broadcastActive(0, now: 2_000 + Self.window))
    }

    @Test("on and off ignore what is heard")
    func fixedModes() {
        var on = Self.paths(.on)
        var off = Self.paths(.off)
        #expect(on.broadcastActive(0, now: 0) && !off.broadcastActive(0, now: 0))
        #expect(off.heard(interface: 0, source: "10.0.0.9", byBroadcast: true, nowMillis: 1) == nil)
        #expect(on.heard(interface: 0, source: "10.0.0.9", byBroadcast: false, nowMillis: 1) == nil)
        #expect(!off.broadcastActive(0, now: 100_000) && on.broadcastActive(0, now: 100_000))
    }

    @Test("the sources remembered per interface are bounded")
    func bounded() {
        var p = Self.paths()
        for i in 0..<(LANPaths.maxSources * 4) {
            _ = p.heard(interface: 0, source: "10.0.\(i / 256).\(i % 256)", byBroadcast: false, nowMillis: Int64(i))
        }
        #expect(p.sourcesRemembered(interface: 0) == LANPaths.maxSources)
    }
}
