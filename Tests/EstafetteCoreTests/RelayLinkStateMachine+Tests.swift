import NIOCore
import Testing

@testable import EstafetteCore

@Suite("RelayLinkStateMachine")
struct RelayLinkStateMachineTests {
    typealias H = RelayLinkHarness

    @Test func handshakeEstablishesBothSidesWithHellos() {
        var h = H()
        h.connect()
        #expect(h.initiator.phase == .established)
        #expect(h.responder.phase == .established)
        #expect(h.initiator.peerHello?.role == .relay)
        #expect(h.responder.peerHello?.role == .node)
        #expect(h.initiator.peerStaticKey == NoiseKeyPair(identity: H.relayIdentity).publicKey)
        #expect(h.closed.isEmpty)
        // Empty stores: one round, both sides told.
        #expect(h.syncCompleted[.initiator] == 1 && h.syncCompleted[.responder] == 1)
        #expect(h.initiator.isQuiescent && h.responder.isQuiescent)
    }

    @Test func relayNeverSendsAnUnauthenticatedPeerMoreThanItReceived() {
        var h = H()
        h.apply(.responder, h.responder.start(now: h.now))
        let start = h.initiator.start(now: h.now)
        guard case .send(let message1)? = start.last else {
            Issue.record("initiator sent nothing")
            return
        }
        let reply = h.responder.receive(message1, now: h.now)
        let sent = reply.reduce(0) { n, a in
            if case .send(let b) = a { return n + b.count }
            return n
        }
        #expect(sent > 0)
        #expect(sent <= message1.count)
        #expect(h.responder.stats.bytesOut <= h.responder.stats.bytesIn)
        // Message 1 and 2 are the same size: 2 + 48 + the 8-byte hello.
        #expect(message1.count == 58 && sent == 58)
        // Anything more before message 3 gets nothing back.
        let more = h.responder.receive([0, 20] + [UInt8](repeating: 7, count: 20), now: h.now)
        #expect(!more.contains { if case .send = $0 { return true } else { return false } })
    }

    @Test func aRelayWithoutThePinnedKeyIsRefused() {
        // The initiator pins Mallory; the relay at the address is Carol.
        var h = H(pin: Fixture.mallory.publicKey)
        h.connect()
        #expect(h.closed[.responder] == .some(.handshake(.decryptionFailed)))
        #expect(h.responder.stats.bytesOut == 0)
        #expect(h.initiator.phase == .handshaking)
        h.peerClosed(.initiator)
        #expect(h.closed[.initiator] == .some(.handshakeRefused))
    }

    @Test func aForgedSecondMessageIsAPinMismatch() {
        var h = H()
        _ = h.initiator.start(now: h.now)
        let forged = be(UInt16(56)) + [UInt8](repeating: 9, count: 56)
        h.inject(forged, into: .initiator)
        #expect(h.closed[.initiator] == .some(.pinMismatch))
    }

    @Test func linkKeyNotOnTheAllowListIsRefusedAfterMessage3() {
        let allowed = NoiseKeyPair.generate()
        var h = H(allowed: [allowed.publicKey])
        h.connect()
        #expect(h.closed[.responder] == .some(.linkKeyNotAllowed))
        #expect(h.responder.phase == .closed)
        // The relay sent message 2 and nothing else.
        #expect(h.wire[.responder]!.count == 58)

        var ok = H(allowed: [allowed.publicKey], linkKey: allowed)
        ok.connect()
        #expect(ok.responder.phase == .established)
    }

    @Test func badFramesAreRefusedWithTypedErrors() {
        // Zero length.
        var a = H()
        _ = a.responder.start(now: a.now)
        a.inject([0, 0], into: .responder)
        #expect(a.closed[.responder] == .some(.frame(.emptyFrame)))
        // Longer than a first message may be, refused before its bytes arrive.
        var b = H()
        _ = b.responder.start(now: b.now)
        b.inject([0xff, 0xff], into: .responder)
        #expect(b.closed[.responder] == .some(.frame(.frameTooLong(65535, maximum: 1024))))
        // Garbage of the right size: the tag fails.
        var c = H()
        _ = c.responder.start(now: c.now)
        c.inject(be(UInt16(58)) + [UInt8](repeating: 0x41, count: 58), into: .responder)
        #expect(c.closed[.responder] == .some(.handshake(.decryptionFailed)))
        #expect(c.responder.stats.bytesOut == 0)
        // Too short to hold a hello.
        var d = H()
        _ = d.responder.start(now: d.now)
        d.inject(be(UInt16(20)) + [UInt8](repeating: 1, count: 20), into: .responder)
        #expect(d.closed[.responder] == .some(.handshake(.messageTooShort("e", 20))) || d.closed[.responder] != nil)
        // Truncated: half a frame, then the peer goes away.
        var e = H()
        _ = e.responder.start(now: e.now)
        e.inject(be(UInt16(58)) + [1, 2, 3], into: .responder)
        #expect(e.closed[.responder] == nil)
        e.peerClosed(.responder)
        #expect(e.closed[.responder] == .some(.peerClosed("eof")))
    }

    @Test func garbageAfterTheHandshakeIsATransportError() {
        var h = H()
        h.connect()
        h.inject(be(UInt16(40)) + [UInt8](repeating: 0x55, count: 40), into: .responder)
        #expect(h.closed[.responder] == .some(.transport(.decryptionFailed)))
    }

    @Test func handshakeTimeoutCloses() {
        var h = H()
        _ = h.responder.start(now: h.now)
        #expect(h.responder.phase == .handshaking)
        h.apply(.responder, h.responder.timerFired(.handshake, now: h.now + 10_000))
        #expect(h.closed[.responder] == .some(.handshakeTimeout))
    }

    @Test func reconcilesTenThousandRecordsDifferingBothWays() {
        var h = H()
        let shared = (0..<8_000).map { H.envelope($0, expiresIn: UInt64(60 + $0 % 5_000)) }
        let onlyI = (8_000..<10_000).map { H.envelope($0, expiresIn: UInt64(60 + $0)) }
        let onlyR = (10_000..<12_000).map { H.envelope($0, expiresIn: UInt64(60 + $0)) }
        h.add(shared + onlyI, to: .initiator)
        h.add(shared + onlyR, to: .responder)
        h.connect()
        #expect(h.closed.isEmpty)
        #expect(h.stores[.initiator]!.count == 12_000)
        #expect(h.stores[.responder]!.count == 12_000)
        #expect(Set(h.stores[.initiator]!.keys).symmetricDifference(h.stores[.responder]!.keys).isEmpty)
        #expect(h.initiator.stats.envelopeRecordsOut == 2_000)
        #expect(h.responder.stats.envelopeRecordsOut == 2_000)
        #expect(h.initiator.stats.envelopesAcked == 2_000)
        #expect(h.responder.stats.envelopesAcked == 2_000)
        #expect(h.initiator.isQuiescent && h.responder.isQuiescent)
    }

    @Test func oneSideEmptyGetsEverything() {
        var h = H()
        h.add((0..<10_000).map { H.envelope($0) }, to: .responder)
        h.connect()
        #expect(h.stores[.initiator]!.count == 10_000)
        #expect(h.responder.stats.envelopesAcked == 10_000)
        // Bounded by the window: never more than 256 unacknowledged.
        #expect(h.initiator.stats.envelopesReceived == 10_000)
    }

    @Test func acknowledgedOnlyOnceSettled() {
        var settings = RelayLinkSettings()
        settings.receiveWindow = 16
        var h = H(settings: settings)
        h.deferSettlement = true
        h.add((0..<40).map { H.envelope($0) }, to: .responder)
        h.connect()
        // The window is full and nothing is acknowledged while nothing is committed.
        #expect(h.responder.stats.envelopesAcked == 0)
        #expect(h.responder.inFlight == 16)
        #expect(h.responder.stats.envelopeRecordsOut == 16)
        #expect(h.stores[.initiator]!.isEmpty)
        for _ in 0..<10 { h.settleHeld() }
        #expect(h.stores[.initiator]!.count == 40)
        #expect(h.responder.stats.envelopesAcked == 40)
    }

    @Test func aStoreFailureClosesWithoutAcknowledging() {
        var h = H()
        h.deferSettlement = true
        h.add([H.envelope(1)], to: .responder)
        h.connect()
        h.apply(.initiator, h.initiator.settled(sequence: 0, .storeFailed, now: h.now))
        #expect(h.closed[.initiator] == .some(.storeFailed))
        #expect(h.responder.stats.envelopesAcked == 0)
    }

    @Test func expiredAndDuplicateEnvelopesAreAcknowledgedNotStored() {
        var h = H()
        h.connect()
        let e = H.envelope(5)
        h.offer(e, on: .initiator)
        #expect(h.stores[.responder]![e.id] != nil)
        h.offer(e, on: .initiator)  // queued again after it was sent: a duplicate on arrival
        #expect(h.initiator.stats.envelopesAcked == 2)
        #expect(h.responder.stats.envelopesReceived == 1)
    }

    @Test func livePushesFlowBothWaysAfterSync() {
        var h = H()
        h.connect()
        let a = H.envelope(100)
        let b = H.envelope(200)
        h.offer(a, on: .initiator)
        h.offer(b, on: .responder)
        #expect(h.stores[.responder]![a.id] != nil)
        #expect(h.stores[.initiator]![b.id] != nil)
        #expect(h.initiator.isQuiescent && h.responder.isQuiescent)
    }

    @Test func resyncCatchesWhatWasNotPushed() {
        var h = H()
        h.connect()
        // Added without an offer (say, the push queue overflowed).
        h.add([H.envelope(7)], to: .responder)
        h.fire(.resync, on: .initiator)
        #expect(h.stores[.initiator]!.count == 1)
        #expect(h.syncCompleted[.initiator] == 2)
    }

    @Test func keepaliveAndIdleTimeout() {
        var h = H()
        h.connect()
        let before = h.initiator.stats.bytesOut
        h.now += 30_000
        h.fire(.keepalive, on: .initiator)
        #expect(h.initiator.stats.bytesOut == before + 2 + 1 + 16)
        h.now += 95_000
        h.apply(.responder, h.responder.timerFired(.idle, now: h.now + 200_000))
        #expect(h.closed[.responder] == .some(.idleTimeout))
    }

    @Test func recordsRoundTripAndBadOnesAreRefused() throws {
        let id = H.envelope(1).id
        let records: [RelayRecord] = [
            .negentropy([0x61]), .want([id, id]), .syncDone, .envelope([1, 2, 3]), .ack(1 << 40), .keepalive,
            .close(.notAllowed), .live([9]),
        ]
        for r in records { #expect(try RelayRecord(decoding: r.encoded()) == r) }
        #expect(throws: RelayLinkError.badRecord("empty")) { try RelayRecord(decoding: []) }
        #expect(throws: RelayLinkError.badRecord("type 0x9")) { try RelayRecord(decoding: [9]) }
        #expect(throws: RelayLinkError.badRecord("want of 31 bytes")) {
            try RelayRecord(decoding: [2] + [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: RelayLinkError.badRecord("ack of 7 bytes")) {
            try RelayRecord(decoding: [5, 0, 0, 0, 0, 0, 0, 0])
        }
        #expect(throws: RelayLinkError.badRecord("envelope of 0 bytes")) { try RelayRecord(decoding: [4]) }
        #expect(throws: RelayLinkError.badRecord("envelope of 40000 bytes")) {
            try RelayRecord(decoding: [8] + [UInt8](repeating: 0, count: 40_000))
        }
    }

    @Test func hellosDecodeAndBadOnesAreRefused() throws {
        let hello = RelayHello(role: .relay, receiveWindow: 300)
        #expect(try RelayHello(decoding: hello.encoded()) == hello)
        #expect(try RelayHello(decoding: hello.encoded() + [1, 2, 3]) == hello)
        #expect(throws: RelayLinkError.badHello("7 bytes")) { try RelayHello(decoding: [1, 0, 0, 0, 0, 1, 0]) }
        #expect(throws: RelayLinkError.unsupportedVersion(0)) { try RelayHello(decoding: [0, 0, 0, 0, 0, 1, 0, 0]) }
        #expect(throws: RelayLinkError.badHello("role 5")) { try RelayHello(decoding: [1, 5, 0, 0, 0, 1, 0, 0]) }
        #expect(throws: RelayLinkError.badHello("receive window 0")) {
            try RelayHello(decoding: [1, 0, 0, 0, 0, 0, 0, 0])
        }
    }
}
