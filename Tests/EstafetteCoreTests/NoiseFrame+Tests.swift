import NIOCore
import Testing

@testable import EstafetteCore

@Suite("Noise frame codec")
struct NoiseFrameTests {
    static let messages: [[UInt8]] = [
        [1], Array(repeating: 2, count: 48), Array(repeating: 3, count: 300), (0..<65535).map { UInt8($0 % 251) },
        [4, 4],
    ]

    static func stream(_ messages: [[UInt8]] = messages) throws -> [UInt8] {
        var buffer = ByteBuffer()
        for m in messages { #expect(try buffer.writeNoiseFrame(m) == 2 + m.count) }
        return Array(buffer.readableBytesView)
    }

    @Test func lengthIsABigEndianU16Prefix() throws {
        let bytes = try Self.stream([[0xaa, 0xbb, 0xcc], Array(repeating: 0, count: 0x0102)])
        #expect(Array(bytes.prefix(5)) == [0x00, 0x03, 0xaa, 0xbb, 0xcc])
        #expect(Array(bytes[5..<7]) == [0x01, 0x02])
        #expect(bytes.count == 5 + 2 + 0x0102)
    }

    @Test func dripFeedOneByteAtATime() throws {
        var decoder = NoiseFrameDecoder()
        var frames: [[UInt8]] = []
        for byte in try Self.stream() {
            try decoder.receive([byte])
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        #expect(frames == Self.messages)
        #expect(decoder.bufferedBytes == 0)
    }

    @Test func manyFramesInOneRead() throws {
        let small = Array(Self.messages.prefix(3)) + [Self.messages[4]]
        var decoder = NoiseFrameDecoder()
        try decoder.receive(try Self.stream(small))
        var frames: [[UInt8]] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        #expect(frames == small)
    }

    @Test func partialInputNeedsMoreAndMovesNothing() throws {
        let bytes = try Self.stream([[1, 2, 3]])
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes.prefix(cut))
            #expect(try buffer.readNoiseFrame() == nil)
            #expect(buffer.readerIndex == 0 && buffer.readableBytes == cut)
        }
    }

    @Test func overLongLengthFailsBeforeItsBytesArrive() throws {
        var decoder = NoiseFrameDecoder(maximumFrameLength: 100)
        try decoder.receive([0x00, 100] + [UInt8](repeating: 1, count: 100))
        #expect(try decoder.nextFrame()?.count == 100)
        try decoder.receive([0x00, 101])
        #expect(throws: NoiseFrameError.frameTooLong(101, maximum: 100)) { try decoder.nextFrame() }
        #expect(throws: NoiseFrameError.frameTooLong(101, maximum: 100)) { try decoder.receive([0]) }
        #expect(throws: NoiseFrameError.frameTooLong(101, maximum: 100)) { try decoder.nextFrame() }
    }

    @Test func largestLengthIsAcceptedByDefault() throws {
        var decoder = NoiseFrameDecoder()
        try decoder.receive([0xff, 0xff])
        #expect(try decoder.nextFrame() == nil)
        try decoder.receive([UInt8](repeating: 7, count: 65535))
        #expect(try decoder.nextFrame()?.count == 65535)
    }

    @Test func zeroLengthIsAnError() throws {
        var decoder = NoiseFrameDecoder()
        try decoder.receive([0x00, 0x00, 0x00, 0x01, 0x09])
        #expect(throws: NoiseFrameError.emptyFrame) { try decoder.nextFrame() }
        var buffer = ByteBuffer()
        #expect(throws: NoiseFrameError.emptyFrame) { try buffer.writeNoiseFrame([UInt8]()) }
        #expect(throws: NoiseFrameError.frameTooLong(65536, maximum: 65535)) {
            try buffer.writeNoiseFrame([UInt8](repeating: 0, count: 65536))
        }
        #expect(buffer.readableBytes == 0, "a refused frame writes nothing")
    }

    @Test func undrainedInputIsBounded() throws {
        var decoder = NoiseFrameDecoder(maximumFrameLength: 10, capacity: 24)
        try decoder.receive([UInt8](repeating: 0, count: 0) + [0, 10] + [UInt8](repeating: 1, count: 10))
        try decoder.receive([0, 10] + [UInt8](repeating: 2, count: 10))
        #expect(throws: NoiseFrameError.bufferFull(25, capacity: 24)) { try decoder.receive([0]) }
        #expect(throws: NoiseFrameError.bufferFull(25, capacity: 24)) { try decoder.nextFrame() }
    }

    @Test func framesCarryAHandshakeAndTransportEndToEnd() throws {
        var (i, r) = try NoiseHandshakeTests.link()
        var toRelay = NoiseFrameDecoder()
        var toNode = NoiseFrameDecoder()
        func send(_ m: [UInt8], to decoder: inout NoiseFrameDecoder) throws -> [UInt8] {
            var wire = ByteBuffer()
            try wire.writeNoiseFrame(m)
            try decoder.receive(Array(wire.readableBytesView))
            return try #require(try decoder.nextFrame())
        }
        _ = try r.readMessage(try send(try i.writeMessage(), to: &toRelay))
        _ = try i.readMessage(try send(try r.writeMessage(), to: &toNode))
        _ = try r.readMessage(try send(try i.writeMessage(), to: &toRelay))
        var it = try i.finish()
        var rt = try r.finish()
        #expect(try rt.decrypt(try send(try it.encrypt(Array("ping".utf8)), to: &toRelay)) == Array("ping".utf8))
    }
}
