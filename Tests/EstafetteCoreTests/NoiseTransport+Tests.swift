import Testing

@testable import EstafetteCore

@Suite("Noise transport")
struct NoiseTransportTests {
    /// Both ends of a finished relay-link handshake.
    static func pair() throws -> (initiator: NoiseTransport, responder: NoiseTransport) {
        var (i, r) = try NoiseHandshakeTests.link()
        _ = try r.readMessage(try i.writeMessage())
        _ = try i.readMessage(try r.writeMessage())
        _ = try r.readMessage(try i.writeMessage())
        return (try i.finish(), try r.finish())
    }

    @Test func eachDirectionCountsItsOwnNonces() throws {
        var (i, r) = try Self.pair()
        for n in 0..<3 { #expect(try r.decrypt(try i.encrypt([UInt8(n)])) == [UInt8(n)]) }
        #expect(i.sendingNonce == 3 && r.receivingNonce == 3)
        #expect(i.receivingNonce == 0 && r.sendingNonce == 0)
        #expect(try i.decrypt(try r.encrypt([9])) == [9])
        #expect(r.sendingNonce == 1 && i.receivingNonce == 1)
    }

    @Test func directionsUseDifferentKeys() throws {
        var (i, r) = try Self.pair()
        let fromInitiator = try i.encrypt([1, 2, 3])
        let fromResponder = try r.encrypt([1, 2, 3])
        #expect(fromInitiator != fromResponder)
        #expect(throws: NoiseError.decryptionFailed) { try i.decrypt(fromInitiator) }
    }

    @Test func replayedReorderedAndTamperedMessagesFail() throws {
        var (i, r) = try Self.pair()
        let first = try i.encrypt([1])
        let second = try i.encrypt([2])
        #expect(throws: NoiseError.decryptionFailed) { try r.decrypt(second) }
        #expect(try r.decrypt(first) == [1])
        #expect(throws: NoiseError.decryptionFailed) { try r.decrypt(first) }
        #expect(throws: NoiseError.decryptionFailed) { try r.decrypt(flippingBit(3, of: second)) }
        #expect(throws: NoiseError.messageTooShort("ciphertext", 0)) { try r.decrypt([]) }
        #expect(r.receivingNonce == 1, "failures did not move the nonce")
        #expect(try r.decrypt(second) == [2])
    }

    @Test func largestMessageAndLimit() throws {
        var (i, r) = try Self.pair()
        let largest = [UInt8](repeating: 0x5a, count: NoiseTransport.maxPlaintextLength)
        let message = try i.encrypt(largest)
        #expect(message.count == 65535)
        #expect(try r.decrypt(message) == largest)
        #expect(throws: NoiseError.messageTooLong(65536)) { try i.encrypt(largest + [0]) }
        #expect(i.sendingNonce == 1)
    }

    @Test func exhaustedNoncesStopTheLink() throws {
        var (i, r) = try Self.pair()
        i.setNonces(sending: .max - 1, receiving: 0)
        r.setNonces(sending: 0, receiving: .max - 1)
        #expect(try r.decrypt(try i.encrypt([1])) == [1])
        #expect(throws: NoiseError.nonceExhausted) { try i.encrypt([2]) }
    }

    @Test func rekeyBothEndsKeepsTheLinkWorking() throws {
        var (i, r) = try Self.pair()
        _ = try r.decrypt(try i.encrypt([0]))
        i.rekeySending()
        #expect(throws: NoiseError.decryptionFailed) { try r.decrypt(try i.encrypt([1])) }
        var (i2, r2) = try Self.pair()
        _ = try r2.decrypt(try i2.encrypt([0]))
        i2.rekeySending()
        r2.rekeyReceiving()
        #expect(try r2.decrypt(try i2.encrypt([1])) == [1])
    }
}
