/// The 32-byte BLAKE2b-256 of an encoded envelope, held as four words for compact indexes.
public struct EnvelopeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let w0: UInt64
    public let w1: UInt64
    public let w2: UInt64
    public let w3: UInt64

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "EnvelopeID needs 32 bytes, got \(bytes.count)")
        func word(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in bytes[(i * 8)..<(i * 8 + 8)] { v = (v << 8) | UInt64(b) }
            return v
        }
        self.w0 = word(0)
        self.w1 = word(1)
        self.w2 = word(2)
        self.w3 = word(3)
    }

    /// The ID of an encoded envelope.
    public init(ofEncoded bytes: [UInt8]) {
        self.init(bytes: Sodium.blake2b(bytes, length: 32))
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64, let bytes = [UInt8](hexDigits: hex.utf8) else { return nil }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            withUnsafeBytes(of: w.bigEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The first 8 bytes, used in inventories and fragment streams.
    public var prefix: UInt64 { w0 }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (a: EnvelopeID, b: EnvelopeID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    static func ^ (a: EnvelopeID, b: EnvelopeID) -> EnvelopeID {
        EnvelopeID(w0: a.w0 ^ b.w0, w1: a.w1 ^ b.w1, w2: a.w2 ^ b.w2, w3: a.w3 ^ b.w3)
    }

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    public static let zero = EnvelopeID(w0: 0, w1: 0, w2: 0, w3: 0)
}
