import NIOCore

/// The payload codec of each packet type: one `ByteBuffer` reader and one writer per type, as NIOSOCKS codes its
/// messages (`readClientGreeting` / `writeClientGreeting`), with the type's byte diagram on its reader. Integers
/// are big-endian.
///
/// A datagram holds exactly one packet, so a payload reader takes the rest of the buffer as its payload: a short
/// payload is malformed and throws `.truncated(field)` (it never means "more bytes needed"), and bytes left after
/// a fixed-length payload throw `.trailingBytes`. Every reader leaves the reader index where it was when it throws.
extension ByteBuffer {
    /// Reads the payload of a packet of type `type`, which occupies the rest of the buffer.
    mutating func readPacketPayload(type: UInt8) throws(WireError) -> Packet {
        try unwindingOnThrow { (buffer: inout ByteBuffer) throws(WireError) -> Packet in
            switch type {
            case 1: return try buffer.readBeaconPayload()
            case 2: return try buffer.readEnvelopePayload()
            case 3: return try buffer.readFragmentPayload()
            case 4: return try buffer.readInventoryPayload()
            case 5: return try buffer.readWantPayload()
            case 6: return try buffer.readCodedPayload()
            case 7: return try buffer.readParityPayload()
            case 9: return try buffer.readSummaryPayload()
            default: throw .unknownPacketType(type)
            }
        }
    }

    /// Writes a packet's payload (not its type or session). Returns the bytes written.
    @discardableResult
    mutating func writePacketPayload(_ packet: Packet) -> Int {
        switch packet {
        case .beacon(let count, let digest):
            return writeBeaconPayload(count: count, digest: digest)
        case .envelope(let bytes):
            return writeBytes(bytes)
        case .fragment(let stream, let offset, let total, let chunk):
            return writeFragmentPayload(stream: stream, offset: offset, total: total, chunk: chunk)
        case .inventory(let lo, let hi, let count, let digest, let prefixes):
            return writeInventoryPayload(lo: lo, hi: hi, count: count, digest: digest, prefixes: prefixes)
        case .want(let target, let need, let prefixes):
            return writeWantPayload(target: target, need: need, prefixes: prefixes)
        case .coded(let members, let coefficients, let payload):
            return writeCodedPayload(members: members, coefficients: coefficients, payload: payload)
        case .parity(let stream, let total, let index, let chunk):
            return writeParityPayload(stream: stream, total: total, index: index, chunk: chunk)
        case .summary(let lo, let hi, let count, let digest, let ranges):
            return writeSummaryPayload(lo: lo, hi: hi, count: count, digest: digest, ranges: ranges)
        }
    }

    // MARK: - 1 beacon

    /// ```
    /// count u32 | digest[32]          (digest = XOR of the IDs of all unexpired envelopes held)
    /// ```
    mutating func readBeaconPayload() throws(WireError) -> Packet {
        guard let count = readInteger(as: UInt32.self), let digest = readEnvelopeID() else {
            throw .truncated("beacon")
        }
        try expectNoTrailingBytes()
        return .beacon(count: count, digest: digest)
    }

    @discardableResult
    mutating func writeBeaconPayload(count: UInt32, digest: EnvelopeID) -> Int {
        writeInteger(count) + writeEnvelopeID(digest)
    }

    // MARK: - 2 envelope

    /// ```
    /// one encoded envelope, not empty (validated by the node, which also needs its bytes for the ID)
    /// ```
    mutating func readEnvelopePayload() throws(WireError) -> Packet {
        guard readableBytes > 0 else { throw .truncated("envelope") }
        return .envelope(readBytes(length: readableBytes)!)
    }

    // MARK: - 3 fragment

    /// ```
    /// stream u64 | offset u32 | total u32 | chunk (the rest, not empty; offset + chunk length ≤ total)
    /// ```
    mutating func readFragmentPayload() throws(WireError) -> Packet {
        guard let stream = readInteger(as: UInt64.self), let offset = readInteger(as: UInt32.self),
            let total = readInteger(as: UInt32.self)
        else { throw .truncated("fragment") }
        let chunk = readBytes(length: readableBytes)!
        guard !chunk.isEmpty else { throw .truncated("fragment chunk") }
        guard Int(total) <= Envelope.maxEncodedBytes else { throw .oversized("fragment total", Int(total)) }
        guard Int(offset) + chunk.count <= Int(total) else { throw .invalid("fragment beyond total") }
        return .fragment(stream: stream, offset: offset, total: total, chunk: chunk)
    }

    @discardableResult
    mutating func writeFragmentPayload(stream: UInt64, offset: UInt32, total: UInt32, chunk: [UInt8]) -> Int {
        writeInteger(stream) + writeInteger(offset) + writeInteger(total) + writeBytes(chunk)
    }

    // MARK: - 4 inventory

    /// ```
    /// range_lo u64 | range_hi u64 | count u32 | digest[32] | n u16 | n × id-prefix u64
    /// ```
    /// Every prefix lies in [lo, hi] (lo ≤ hi); n is at most `Packet.maxPrefixesPerPacket`.
    mutating func readInventoryPayload() throws(WireError) -> Packet {
        guard let lo = readInteger(as: UInt64.self), let hi = readInteger(as: UInt64.self),
            let count = readInteger(as: UInt32.self), let digest = readEnvelopeID(),
            let n = readInteger(as: UInt16.self)
        else { throw .truncated("inventory") }
        guard Int(n) <= Packet.maxPrefixesPerPacket else { throw .oversized("inventory n", Int(n)) }
        guard lo <= hi else { throw .invalid("inventory range") }
        let prefixes = try readPrefixes(n, field: "inventory prefixes") { (p: UInt64) throws(WireError) in
            guard p >= lo, p <= hi else { throw .invalid("inventory prefix outside range") }
        }
        try expectNoTrailingBytes()
        return .inventory(lo: lo, hi: hi, count: count, digest: digest, prefixes: prefixes)
    }

    @discardableResult
    mutating func writeInventoryPayload(
        lo: UInt64, hi: UInt64, count: UInt32, digest: EnvelopeID, prefixes: [UInt64]
    ) -> Int {
        writeInteger(lo) + writeInteger(hi) + writeInteger(count) + writeEnvelopeID(digest)
            + writePrefixes(prefixes)
    }

    // MARK: - 5 want

    /// ```
    /// target session u64 | need u16 | n u16 | n × id-prefix u64
    /// ```
    /// n is at most `Packet.maxPrefixesPerPacket`.
    mutating func readWantPayload() throws(WireError) -> Packet {
        guard let target = readInteger(as: UInt64.self), let need = readInteger(as: UInt16.self),
            let n = readInteger(as: UInt16.self)
        else { throw .truncated("want") }
        guard Int(n) <= Packet.maxPrefixesPerPacket else { throw .oversized("want n", Int(n)) }
        let prefixes = try readPrefixes(n, field: "want prefixes") { (_: UInt64) throws(WireError) in }
        try expectNoTrailingBytes()
        return .want(target: target, need: need, prefixes: prefixes)
    }

    @discardableResult
    mutating func writeWantPayload(target: UInt64, need: UInt16, prefixes: [UInt64]) -> Int {
        writeInteger(target) + writeInteger(need) + writePrefixes(prefixes)
    }

    // MARK: - 6 coded

    /// ```
    /// n u8 (1…32) | n × id-prefix u64 (strictly ascending) | n × coefficient u8 (non-zero) | payload (the rest,
    /// at least an envelope header long)
    /// ```
    mutating func readCodedPayload() throws(WireError) -> Packet {
        guard let n = readInteger(as: UInt8.self) else { throw .truncated("coded") }
        guard n >= 1, Int(n) <= CodedRepair.maxMembers else { throw .oversized("coded n", Int(n)) }
        var members: [UInt64] = []
        members.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let p = readInteger(as: UInt64.self) else { throw .truncated("coded members") }
            guard members.last.map({ $0 < p }) ?? true else { throw .invalid("coded members not ascending") }
            members.append(p)
        }
        guard let coefficients = readBytes(length: Int(n)) else { throw .truncated("coded coefficients") }
        guard !coefficients.contains(0) else { throw .invalid("coded coefficient zero") }
        let payload = readBytes(length: readableBytes)!
        guard payload.count >= Packet.minCodedPayloadBytes else { throw .truncated("coded payload") }
        return .coded(members: members, coefficients: coefficients, payload: payload)
    }

    @discardableResult
    mutating func writeCodedPayload(members: [UInt64], coefficients: [UInt8], payload: [UInt8]) -> Int {
        var n = writeInteger(UInt8(members.count))
        for p in members { n += writeInteger(p) }
        return n + writeBytes(coefficients) + writeBytes(payload)
    }

    // MARK: - 7 parity

    /// ```
    /// stream u64 | total u32 | index u8 | chunk (the rest: exactly `Packet.maxChunkBytes`, and total longer
    /// than one chunk)
    /// ```
    mutating func readParityPayload() throws(WireError) -> Packet {
        guard let stream = readInteger(as: UInt64.self), let total = readInteger(as: UInt32.self),
            let index = readInteger(as: UInt8.self)
        else { throw .truncated("parity") }
        let chunk = readBytes(length: readableBytes)!
        guard Int(total) <= Envelope.maxEncodedBytes else { throw .oversized("parity total", Int(total)) }
        guard Int(total) > Packet.maxChunkBytes, chunk.count == Packet.maxChunkBytes else {
            throw .invalid("parity length")
        }
        return .parity(stream: stream, total: total, index: index, chunk: chunk)
    }

    @discardableResult
    mutating func writeParityPayload(stream: UInt64, total: UInt32, index: UInt8, chunk: [UInt8]) -> Int {
        writeInteger(stream) + writeInteger(total) + writeInteger(index) + writeBytes(chunk)
    }

    // MARK: - 9 summary

    /// ```
    /// range_lo u64 | range_hi u64 | count u32 | digest[32] | n u8 | n × (upper u64 | count u32 | fingerprint[16])
    /// ```
    /// lo ≤ hi; n is 1…`Packet.maxSummaryRanges`; the upper bounds are strictly ascending, the first at least lo,
    /// the last exactly hi; the sub-ranges' counts add up to at most the whole store's `count`.
    mutating func readSummaryPayload() throws(WireError) -> Packet {
        guard let lo = readInteger(as: UInt64.self), let hi = readInteger(as: UInt64.self),
            let count = readInteger(as: UInt32.self), let digest = readEnvelopeID(),
            let n = readInteger(as: UInt8.self)
        else { throw .truncated("summary") }
        guard n >= 1, Int(n) <= Packet.maxSummaryRanges else { throw .oversized("summary n", Int(n)) }
        guard lo <= hi else { throw .invalid("summary range") }
        var ranges: [SummaryRange] = []
        ranges.reserveCapacity(Int(n))
        var total: UInt64 = 0
        for _ in 0..<n {
            guard let upper = readInteger(as: UInt64.self), let c = readInteger(as: UInt32.self),
                let fp = readBytes(length: NegentropyFingerprint.byteCount)
            else { throw .truncated("summary ranges") }
            guard upper >= lo, ranges.last.map({ $0.upperBound < upper }) ?? true else {
                throw .invalid("summary bounds not ascending")
            }
            total += UInt64(c)
            ranges.append(SummaryRange(upperBound: upper, count: c, fingerprint: NegentropyFingerprint(bytes: fp)))
        }
        guard ranges.last!.upperBound == hi else { throw .invalid("summary bounds not ending at hi") }
        guard total <= UInt64(count) else { throw .invalid("summary counts above store count") }
        try expectNoTrailingBytes()
        return .summary(lo: lo, hi: hi, count: count, digest: digest, ranges: ranges)
    }

    @discardableResult
    mutating func writeSummaryPayload(
        lo: UInt64, hi: UInt64, count: UInt32, digest: EnvelopeID, ranges: [SummaryRange]
    ) -> Int {
        var n = writeInteger(lo) + writeInteger(hi) + writeInteger(count) + writeEnvelopeID(digest)
        n += writeInteger(UInt8(ranges.count))
        for r in ranges { n += writeInteger(r.upperBound) + writeInteger(r.count) + writeBytes(r.fingerprint.bytes) }
        return n
    }

    // MARK: - Shared fields

    /// `n u16 | n × id-prefix u64`, the prefixes' count first.
    private mutating func writePrefixes(_ prefixes: [UInt64]) -> Int {
        var n = writeInteger(UInt16(prefixes.count))
        for p in prefixes { n += writeInteger(p) }
        return n
    }

    /// `n` prefixes, each checked by `check` as it is read.
    private mutating func readPrefixes(
        _ n: UInt16, field: String, check: (UInt64) throws(WireError) -> Void
    ) throws(WireError) -> [UInt64] {
        var prefixes: [UInt64] = []
        prefixes.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let p = readInteger(as: UInt64.self) else { throw .truncated(field) }
            try check(p)
            prefixes.append(p)
        }
        return prefixes
    }

    private func expectNoTrailingBytes() throws(WireError) {
        guard readableBytes == 0 else { throw .trailingBytes(readableBytes) }
    }
}

extension Packet {
    /// The payload's bytes (everything after type and session).
    func encodePayload() -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writePacketPayload(self)
        return Array(buffer.readableBytesView)
    }

    /// Decodes a payload of the given type, which must occupy all of `payload`.
    static func decodePayload(type: UInt8, _ payload: [UInt8]) throws(WireError) -> Packet {
        var buffer = ByteBuffer(bytes: payload)
        return try buffer.readPacketPayload(type: type)
    }
}
