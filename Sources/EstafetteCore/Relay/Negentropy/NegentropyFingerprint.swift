import CSodium

/// The 16-byte digest of the IDs in a range (protocol v1):
/// `SHA-256(sum of the IDs as 256-bit little-endian integers mod 2^256 ‖ varint(count))[0..<16]`.
public struct NegentropyFingerprint: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16

    /// The digest bytes, as two words loaded in order (for cheap comparison).
    private let hi: UInt64
    private let lo: UInt64

    /// A fingerprint from exactly 16 bytes.
    init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == Self.byteCount, "fingerprint of \(bytes.count) bytes")
        var h: UInt64 = 0
        var l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        self.hi = h
        self.lo = l
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount)
        withUnsafeBytes(of: hi.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: lo.bigEndian) { out.append(contentsOf: $0) }
        return out
    }

    public var description: String { bytes.map { String($0, radix: 16).leftPadded(2) }.joined() }
}

/// The sum mod 2^256 of IDs read as 32-byte little-endian integers; `l0` is the least significant word.
///
/// Sums of ranges come from differences of prefix sums, so the accumulator can subtract as well as add.
struct NegentropyAccumulator: Hashable, Sendable {
    var l0: UInt64 = 0
    var l1: UInt64 = 0
    var l2: UInt64 = 0
    var l3: UInt64 = 0

    static let zero = NegentropyAccumulator()

    /// Adds an ID. `EnvelopeID` holds its bytes as big-endian words, so each word read little-endian is swapped.
    @inline(__always)
    mutating func add(_ id: EnvelopeID) {
        add(
            NegentropyAccumulator(
                l0: id.w0.byteSwapped, l1: id.w1.byteSwapped, l2: id.w2.byteSwapped, l3: id.w3.byteSwapped))
    }

    @inline(__always)
    mutating func add(_ o: NegentropyAccumulator) {
        var carry: UInt64
        var c: Bool
        (l0, c) = l0.addingReportingOverflow(o.l0)
        carry = c ? 1 : 0
        (l1, carry) = Self.addWithCarry(l1, o.l1, carry)
        (l2, carry) = Self.addWithCarry(l2, o.l2, carry)
        (l3, _) = Self.addWithCarry(l3, o.l3, carry)
    }

    @inline(__always)
    mutating func subtract(_ o: NegentropyAccumulator) {
        var borrow: UInt64
        var c: Bool
        (l0, c) = l0.subtractingReportingOverflow(o.l0)
        borrow = c ? 1 : 0
        (l1, borrow) = Self.subtractWithBorrow(l1, o.l1, borrow)
        (l2, borrow) = Self.subtractWithBorrow(l2, o.l2, borrow)
        (l3, _) = Self.subtractWithBorrow(l3, o.l3, borrow)
    }

    @inline(__always)
    private static func addWithCarry(_ a: UInt64, _ b: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
        let (s1, o1) = a.addingReportingOverflow(b)
        let (s2, o2) = s1.addingReportingOverflow(carry)
        return (s2, (o1 || o2) ? 1 : 0)
    }

    @inline(__always)
    private static func subtractWithBorrow(_ a: UInt64, _ b: UInt64, _ borrow: UInt64) -> (UInt64, UInt64) {
        let (d1, o1) = a.subtractingReportingOverflow(b)
        let (d2, o2) = d1.subtractingReportingOverflow(borrow)
        return (d2, (o1 || o2) ? 1 : 0)
    }

    /// The 32 bytes of the sum, little-endian.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [l0, l1, l2, l3] { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    /// The fingerprint of a range whose IDs sum to `self` and which holds `count` records.
    func fingerprint(count: Int) -> NegentropyFingerprint {
        Sodium.ensureReady()
        var input = bytes
        NegentropyWriter.appendVarint(UInt64(count), to: &input)
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_bytes()))
        let rc = crypto_hash_sha256(&digest, input, UInt64(input.count))
        precondition(rc == 0, "crypto_hash_sha256 failed (rc \(rc)) on \(input.count) bytes")
        return NegentropyFingerprint(bytes: digest.prefix(NegentropyFingerprint.byteCount))
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}
