import Foundation
import Testing

@testable import EstafetteCore

/// One test session from a published vector file, in a form both file layouts map onto.
struct NoiseVector: CustomStringConvertible {
    struct Message {
        var payload: [UInt8]
        var ciphertext: [UInt8]
        /// Transport messages only: who sends it.
        var sender: NoiseHandshake.Role
        /// Both sides rekey the sender's direction before this message (the reference generator's extension).
        var rekey = false
    }

    var source: String
    var protocolName: String
    var initiatorPrologue: [UInt8] = []
    var responderPrologue: [UInt8] = []
    /// Secret keys (32 bytes each).
    var initiatorStatic: [UInt8]?
    var responderStatic: [UInt8]?
    var initiatorEphemeral: [UInt8]?
    var responderEphemeral: [UInt8]?
    /// Public keys each side knows in advance; derived from the other side's secret when a file leaves them out.
    var initiatorRemoteStatic: [UInt8]?
    var responderRemoteStatic: [UInt8]?
    var handshakeHash: [UInt8]?
    var messages: [Message] = []

    var description: String { "\(protocolName) (\(source))" }

    static let suffix = "_25519_ChaChaPoly_BLAKE2b"

    /// The pattern, when the vector is for this suite and a pattern this implementation has (no PSK, no
    /// fallback, no deferred patterns).
    var pattern: NoisePattern? {
        guard protocolName.hasPrefix("Noise_"), protocolName.hasSuffix(Self.suffix) else { return nil }
        let name = protocolName.dropFirst("Noise_".count).dropLast(Self.suffix.count)
        return NoisePattern.all[String(name)]
    }

    /// Whether the vector is for this suite at all (whatever its pattern).
    var isForThisSuite: Bool { protocolName.hasSuffix(Self.suffix) && protocolName.hasPrefix("Noise_") }
}

/// Where the test vectors are: `$ESTAFETTE_NOISE_VECTORS`, else `.build/noise-vectors` in the package, which
/// `scripts/noise-vectors.sh` fills (scripts/test.sh and CI run it).
enum NoiseVectorFiles {
    static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["ESTAFETTE_NOISE_VECTORS"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        // This file is Tests/EstafetteCoreTests/<name>.swift: the package root is two levels up.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/noise-vectors")
    }

    static let flynn = "flynn-noise-vectors.txt"
    static let reference = "noiseprotocol-vectors.json"
    static let cacophony = "cacophony.txt"

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The file's contents, or an error that says how to get it.
    static func read(_ name: String) throws -> Data {
        let url = url(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw MissingVectors(path: url.path)
        }
        return data
    }

    struct MissingVectors: Error, CustomStringConvertible {
        var path: String
        var description: String {
            "Noise test vectors missing at \(path). Run scripts/noise-vectors.sh (it extracts flynn/noise's "
                + "published vectors from Debian's golang-github-flynn-noise-dev and generates reference vectors "
                + "with PyPI's noiseprotocol), or set ESTAFETTE_NOISE_VECTORS to a directory holding them."
        }
    }
}

struct VectorFormatError: Error, CustomStringConvertible {
    var description: String
}

/// Parsers for the two published layouts.
enum NoiseVectorParser {
    /// flynn/noise `vectors.txt`: blocks of `key=hex` lines separated by blank lines. Handshake messages are
    /// `msg_<i>`; after them, `msg_<n>` goes from initiator to responder and `msg_<n+1>` back (its
    /// `vector_test.go` encrypts them with Split()'s first and second CipherState). Static and ephemeral values
    /// are secret keys.
    static func flynn(_ text: String, source: String) throws -> [NoiseVector] {
        var vectors: [NoiseVector] = []
        var fields: [String: String] = [:]
        var order: [String] = []
        var blockStart = 0
        func flush() throws {
            defer {
                fields = [:]
                order = []
            }
            guard let name = fields["handshake"] else {
                guard fields.isEmpty else { throw VectorFormatError(description: "block without handshake=") }
                return
            }
            var v = NoiseVector(source: "\(source):\(blockStart)", protocolName: name)
            let prologue = try fields["prologue"].map(hex) ?? []
            v.initiatorPrologue = prologue
            v.responderPrologue = prologue
            v.initiatorStatic = try fields["init_static"].map(hex)
            v.responderStatic = try fields["resp_static"].map(hex)
            v.initiatorEphemeral = try fields["gen_init_ephemeral"].map(hex)
            v.responderEphemeral = try fields["gen_resp_ephemeral"].map(hex)
            let handshakeMessages = v.pattern?.messages.count ?? 0
            var index = 0
            while let ciphertext = fields["msg_\(index)_ciphertext"] {
                let payload = try hex(fields["msg_\(index)_payload"] ?? "")
                let transportIndex = index - handshakeMessages
                let sender: NoiseHandshake.Role =
                    transportIndex < 0
                    ? (NoisePattern.isInitiatorMessage(index) ? .initiator : .responder)
                    : (transportIndex % 2 == 0 ? .initiator : .responder)
                v.messages.append(.init(payload: payload, ciphertext: try hex(ciphertext), sender: sender))
                index += 1
            }
            guard index > 0, order.filter({ $0.hasPrefix("msg_") }).count == 2 * index else {
                throw VectorFormatError(description: "\(v): messages not numbered 0..<n with payload and ciphertext")
            }
            vectors.append(v)
        }
        for (lineNumber, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty {
                try flush()
                blockStart = lineNumber + 2
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw VectorFormatError(description: "\(source):\(lineNumber + 1): no '=' in \(line)")
            }
            let key = String(line[..<eq])
            fields[key] = String(line[line.index(after: eq)...])
            order.append(key)
        }
        try flush()
        return vectors
    }

    /// Cacophony's JSON layout (`{"vectors": [...]}`), also written by scripts/noise-reference-vectors.py.
    /// Messages alternate between the two sides, starting with the initiator, past the end of the handshake;
    /// in a one-way pattern every message is the initiator's.
    static func cacophony(_ data: Data, source: String) throws -> [NoiseVector] {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = root["vectors"] as? [[String: Any]]
        else { throw VectorFormatError(description: "\(source): no top-level \"vectors\" array") }
        return try list.enumerated().map { (i, entry) in
            let name = entry["protocol_name"] as? String ?? entry["name"] as? String ?? ""
            var v = NoiseVector(source: "\(source)#\(i)", protocolName: name)
            func field(_ key: String) throws -> [UInt8]? { try (entry[key] as? String).map(hex) }
            v.initiatorPrologue = try field("init_prologue") ?? []
            v.responderPrologue = try field("resp_prologue") ?? []
            v.initiatorStatic = try field("init_static")
            v.responderStatic = try field("resp_static")
            v.initiatorEphemeral = try field("init_ephemeral")
            v.responderEphemeral = try field("resp_ephemeral")
            v.initiatorRemoteStatic = try field("init_remote_static")
            v.responderRemoteStatic = try field("resp_remote_static")
            v.handshakeHash = try field("handshake_hash")
            let oneWay = (v.pattern?.messages.count ?? 2) == 1
            let messages = entry["messages"] as? [[String: Any]] ?? []
            v.messages = try messages.enumerated().map { (j, m) in
                guard let payload = m["payload"] as? String, let ciphertext = m["ciphertext"] as? String else {
                    throw VectorFormatError(description: "\(v): message \(j) lacks payload or ciphertext")
                }
                let sender: NoiseHandshake.Role = oneWay || j % 2 == 0 ? .initiator : .responder
                return .init(
                    payload: try hex(payload), ciphertext: try hex(ciphertext), sender: sender,
                    rekey: m["rekey"] as? Bool ?? false)
            }
            return v
        }
    }

    static func hex(_ s: String) throws -> [UInt8] {
        let digits = Array(s.utf8)
        guard digits.count % 2 == 0 else { throw VectorFormatError(description: "odd-length hex: \(s.prefix(40))") }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else {
                throw VectorFormatError(description: "bad hex: \(s.prefix(40))")
            }
            out.append(byte)
        }
        return out
    }
}

@Suite("Noise vector file parsers")
struct NoiseVectorFileTests {
    @Test func flynnBlocksAndTransportDirections() throws {
        let text = """
            handshake=Noise_XK_25519_ChaChaPoly_BLAKE2b
            init_static=0a0b
            prologue=6e6f74736563726574
            msg_0_payload=
            msg_0_ciphertext=01
            msg_1_payload=
            msg_1_ciphertext=02
            msg_2_payload=
            msg_2_ciphertext=03
            msg_3_payload=ff
            msg_3_ciphertext=04
            msg_4_payload=ee
            msg_4_ciphertext=05

            handshake=Noise_XKpsk3_25519_ChaChaPoly_BLAKE2b
            msg_0_payload=
            msg_0_ciphertext=01
            """
        let vectors = try NoiseVectorParser.flynn(text, source: "t")
        #expect(vectors.count == 2)
        let xk = try #require(vectors.first)
        #expect(xk.pattern == .xk)
        #expect(xk.initiatorStatic == [0x0a, 0x0b])
        #expect(xk.initiatorPrologue == Array("notsecret".utf8))
        #expect(xk.messages.map(\.sender) == [.initiator, .responder, .initiator, .initiator, .responder])
        #expect(xk.messages[3].payload == [0xff])
        #expect(vectors[1].pattern == nil && vectors[1].isForThisSuite)
    }

    @Test func flynnRejectsMalformedLines() {
        #expect(throws: VectorFormatError.self) {
            try NoiseVectorParser.flynn("handshake=Noise_NN_25519_ChaChaPoly_BLAKE2b\nmsg_0_ciphertext", source: "t")
        }
        #expect(throws: VectorFormatError.self) {
            try NoiseVectorParser.flynn("handshake=Noise_NN_25519_ChaChaPoly_BLAKE2b\nmsg_0_ciphertext=0g", source: "t")
        }
    }

    @Test func cacophonyMessagesAlternate() throws {
        let json = """
            {"vectors": [{"protocol_name": "Noise_NN_25519_ChaChaPoly_BLAKE2b", "init_prologue": "41",
              "messages": [{"payload": "", "ciphertext": "01"}, {"payload": "", "ciphertext": "02"},
                           {"payload": "aa", "ciphertext": "03", "rekey": true}]}]}
            """
        let vectors = try NoiseVectorParser.cacophony(Data(json.utf8), source: "t")
        #expect(vectors.count == 1)
        #expect(vectors[0].pattern == .nn)
        #expect(vectors[0].initiatorPrologue == [0x41])
        #expect(vectors[0].messages.map(\.sender) == [.initiator, .responder, .initiator])
        #expect(vectors[0].messages.map(\.rekey) == [false, false, true])
    }
}
