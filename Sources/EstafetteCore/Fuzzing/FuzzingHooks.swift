/// Entry points for the fuzz targets in `Fuzz/` (SPI `Fuzzing`, not part of the public API): they reach the
/// internal decoders the LAN feeds, so that a fuzzer drives them directly and checks their invariants.
/// Use: `@_spi(Fuzzing) import EstafetteCore`. See docs/fuzzing.md.

extension MeshKey {
    /// Seals `plaintext` (type | session | payload) as a datagram, as `seal(_:session:)` does for an encoded
    /// packet: a fuzzer's bytes then reach the packet decoder behind the AEAD.
    @_spi(Fuzzing) public func sealPlaintext(_ plaintext: [UInt8], nonce: [UInt8]) -> [UInt8] {
        Self.ad + nonce + aead.seal(plaintext, nonce: nonce, ad: Self.ad)
    }

    /// The plaintext of a datagram sealed with this key, or nil when it does not open.
    @_spi(Fuzzing) public func openPlaintext(_ datagram: [UInt8]) -> [UInt8]? {
        let start = Self.ad.count + AEADKey.nonceBytes
        guard datagram.count >= start, Array(datagram[..<Self.ad.count]) == Self.ad else { return nil }
        let nonce = Array(datagram[Self.ad.count..<start])
        return try? aead.open(datagram[start...], nonce: nonce, ad: Self.ad)
    }
}

extension Reassembler {
    /// Bytes reserved by partial envelopes (bounded by `Settings.maxTotalBytes`).
    @_spi(Fuzzing) public var fuzzingBytesHeld: Int { bytesHeld }
}

/// The coded-repair decoder (`CodedDecoder`) behind a minimal surface, with a check of its invariant.
@_spi(Fuzzing) public struct FuzzingCodedDecoder: Sendable {
    public enum Outcome: Equatable, Sendable {
        case redundant
        case full
        /// Solved unknowns, by prefix, zero-padded.
        case added([Solved])
    }

    public struct Solved: Equatable, Sendable {
        public let prefix: UInt64
        public let bytes: [UInt8]
    }

    var decoder = CodedDecoder()

    public init(maxRows: Int, timeoutMillis: Millis) {
        decoder.maxRows = maxRows
        decoder.timeoutMillis = timeoutMillis
    }

    public var rowCount: Int { decoder.rows.count }

    /// See `CodedDecoder.add`: a combination over unknowns only.
    public mutating func add(_ coefficients: [UInt64: UInt8], payload: [UInt8], now: Millis) -> Outcome {
        switch decoder.add(coefficients, payload: payload, now: now) {
        case .redundant: return .redundant
        case .full: return .full
        case .added(let solved): return .added(solved.map { Solved(prefix: $0.prefix, bytes: $0.bytes) })
        }
    }

    /// See `CodedDecoder.learn`.
    public mutating func learn(_ prefix: UInt64, bytes: [UInt8], now: Millis) -> [Solved] {
        decoder.learn(prefix, bytes: bytes, now: now).map { Solved(prefix: $0.prefix, bytes: $0.bytes) }
    }

    public mutating func expire(now: Millis) -> Int { decoder.expire(now: now) }

    public mutating func reset() { decoder.reset() }

    /// The first broken invariant, or nil: rows are keyed by their pivot, which has coefficient 1 and appears
    /// in no other row; no coefficient is zero; a stored row has at least two unknowns (one is solved and
    /// taken out); there are at most `maxRows` rows.
    public func invariantViolation() -> String? {
        let rows = decoder.rows
        guard rows.count <= decoder.maxRows else { return "\(rows.count) rows, more than \(decoder.maxRows)" }
        for (pivot, row) in rows {
            guard row.coefficients[pivot] == 1 else { return "row \(pivot): pivot coefficient is not 1" }
            guard row.coefficients.count >= 2 else { return "row \(pivot): solved row left in the decoder" }
            guard !row.coefficients.values.contains(0) else { return "row \(pivot): zero coefficient" }
            for other in row.coefficients.keys where other != pivot && rows[other] != nil {
                return "row \(pivot) mentions pivot \(other) of another row"
            }
        }
        return nil
    }
}
