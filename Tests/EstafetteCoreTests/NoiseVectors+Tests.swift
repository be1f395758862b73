import CSodium
import Foundation
import Testing

@testable import EstafetteCore

/// The implementation against published test vectors and an independent implementation, byte for byte:
/// every handshake message, the handshake hash where the file gives it, and every transport message.
///
/// - flynn/noise's `vectors.txt` (a Go implementation's published vectors; Debian ships it in
///   golang-github-flynn-noise-dev): 4 XK and 4 NN sessions of this suite, and the other fundamental patterns.
/// - Vectors written by PyPI's `noiseprotocol` (which passes cacophony's vectors) for Estafette's own prologue,
///   the 65535-byte limit and Rekey().
/// - Cacophony's own `cacophony.txt`, when a developer has put it in the vector directory (no Debian or PyPI
///   package ships it, so CI cannot fetch it).
@Suite("Noise test vectors")
struct NoiseVectorTests {
    @Test func flynnVectors() throws {
        let text = String(decoding: try NoiseVectorFiles.read(NoiseVectorFiles.flynn), as: UTF8.self)
        let vectors = try NoiseVectorParser.flynn(text, source: NoiseVectorFiles.flynn)
        let ran = try runAll(vectors)
        #expect(ran["XK", default: 0] == 4, "flynn/noise publishes 4 XK sessions for this suite")
        #expect(ran["NN", default: 0] == 4)
        #expect(ran.count == NoisePattern.all.count, "every fundamental pattern has vectors: \(ran)")
    }

    @Test func referenceImplementationVectors() throws {
        let data = try NoiseVectorFiles.read(NoiseVectorFiles.reference)
        let vectors = try NoiseVectorParser.cacophony(data, source: NoiseVectorFiles.reference)
        let ran = try runAll(vectors)
        #expect(ran["XK", default: 0] >= 4)
        let relay = vectors.filter { $0.initiatorPrologue == NoiseHandshake.relayPrologue && $0.pattern == .xk }
        #expect(!relay.isEmpty, "the reference vectors include Estafette's prologue")
        #expect(vectors.contains { $0.messages.contains(where: \.rekey) }, "the reference vectors exercise Rekey()")
        #expect(vectors.contains { $0.messages.contains { $0.ciphertext.count == NoiseFrame.maxMessageLength } })
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: NoiseVectorFiles.url(NoiseVectorFiles.cacophony).path),
            "cacophony.txt is not in the vector directory (no Debian or PyPI package ships it, so CI cannot get it)"
        ))
    func cacophonyVectors() throws {
        let data = try NoiseVectorFiles.read(NoiseVectorFiles.cacophony)
        let vectors = try NoiseVectorParser.cacophony(data, source: NoiseVectorFiles.cacophony)
        let ran = try runAll(vectors)
        #expect(ran["XK", default: 0] >= 1)
        #expect(ran.count == NoisePattern.all.count, "every fundamental pattern has vectors: \(ran)")
    }

    /// Runs every vector of this suite with a pattern implemented here; returns how many ran per pattern.
    /// Fails if the file holds no vector of the suite at all (a parser that silently found nothing).
    private func runAll(_ vectors: [NoiseVector]) throws -> [String: Int] {
        var ran: [String: Int] = [:]
        for vector in vectors {
            guard let pattern = vector.pattern else { continue }
            try Self.run(vector, pattern: pattern)
            ran[pattern.name, default: 0] += 1
        }
        #expect(!ran.isEmpty, "no vector for \(NoiseVector.suffix) with a supported pattern")
        return ran
    }

    static func run(_ v: NoiseVector, pattern: NoisePattern) throws {
        func pair(_ secret: [UInt8]?) throws -> NoiseKeyPair? {
            try secret.map { try NoiseKeyPair(secretKey: SecretBytes(copying: $0)) }
        }
        let initiatorStatic = pattern.usesStaticKey(of: .initiator) ? try pair(v.initiatorStatic) : nil
        let responderStatic = pattern.usesStaticKey(of: .responder) ? try pair(v.responderStatic) : nil
        let initiatorRemote =
            pattern.responderStaticIsPreShared ? v.initiatorRemoteStatic ?? responderStatic?.publicKey : nil
        let responderRemote =
            pattern.initiatorStaticIsPreShared ? v.responderRemoteStatic ?? initiatorStatic?.publicKey : nil
        var initiator = try NoiseHandshake(
            pattern: pattern, role: .initiator, prologue: v.initiatorPrologue, staticKey: initiatorStatic,
            remoteStaticKey: initiatorRemote, ephemeralKey: try pair(v.initiatorEphemeral))
        var responder = try NoiseHandshake(
            pattern: pattern, role: .responder, prologue: v.responderPrologue, staticKey: responderStatic,
            remoteStaticKey: responderRemote, ephemeralKey: try pair(v.responderEphemeral))

        let handshakeCount = pattern.messages.count
        try #require(v.messages.count >= handshakeCount, "\(v): fewer messages than the handshake has")
        for (i, m) in v.messages.prefix(handshakeCount).enumerated() {
            let fromInitiator = NoisePattern.isInitiatorMessage(i)
            let written =
                fromInitiator
                ? try initiator.writeMessage(payload: m.payload)
                : try responder.writeMessage(payload: m.payload)
            #expect(written == m.ciphertext, "\(v): handshake message \(i)")
            let read = fromInitiator ? try responder.readMessage(written) : try initiator.readMessage(written)
            #expect(read == m.payload, "\(v): payload of handshake message \(i)")
        }
        #expect(initiator.step == .complete && responder.step == .complete, "\(v)")
        #expect(initiator.handshakeHash == responder.handshakeHash, "\(v)")
        if let hash = v.handshakeHash { #expect(initiator.handshakeHash == hash, "\(v): handshake hash") }
        if pattern.usesStaticKey(of: .initiator) {
            #expect(responder.remoteStaticKey == initiatorStatic?.publicKey, "\(v): initiator's static key")
        }
        var initiatorTransport = try initiator.finish()
        var responderTransport = try responder.finish()
        for (j, m) in v.messages.dropFirst(handshakeCount).enumerated() {
            let index = handshakeCount + j
            if m.sender == .initiator {
                if m.rekey {
                    initiatorTransport.rekeySending()
                    responderTransport.rekeyReceiving()
                }
                #expect(try initiatorTransport.encrypt(m.payload) == m.ciphertext, "\(v): message \(index)")
                #expect(try responderTransport.decrypt(m.ciphertext) == m.payload, "\(v): message \(index)")
            } else {
                if m.rekey {
                    responderTransport.rekeySending()
                    initiatorTransport.rekeyReceiving()
                }
                #expect(try responderTransport.encrypt(m.payload) == m.ciphertext, "\(v): message \(index)")
                #expect(try initiatorTransport.decrypt(m.ciphertext) == m.payload, "\(v): message \(index)")
            }
        }
    }
}
