@_spi(Fuzzing) import EstafetteCore
import FuzzSupport

/// Fuzz target `datagram`: the LAN datagram decoder (`MeshKey.open`), both in front of the AEAD (raw bytes) and
/// behind it (the fuzzer's bytes sealed as the plaintext, so that they reach the packet parser).
///
/// Input: mode u8, then
/// - mode 0: a raw datagram;
/// - mode 1: a plaintext (type u8 | session u64 | payload), sealed with the public mesh key;
/// - mode 2: a packet built from fields, sealed by `MeshKey.seal` and opened again.
///
/// Checks: a decoded packet obeys the wire rules of docs/protocol.md (bounds, order, non-zero coefficients);
/// its encoding is canonical (sealing it again gives back the same plaintext); a packet built from fields
/// either decodes to itself or is refused, never changed.
enum DatagramFuzz {
    static let key = MeshKey.publicDefault
    static let nonce = [UInt8](repeating: 0x5A, count: 24)

    static func run(_ input: FuzzInput) {
        var input = input
        switch input.u8() % 3 {
        case 0:
            let datagram = input.rest()
            guard let (session, packet) = try? key.open(datagram) else { return }
            guard let plain = key.openPlaintext(datagram) else {
                fuzzCheck(false, "open succeeded on a datagram that does not open")
                return
            }
            checkDecoded(session: session, packet: packet, plaintext: plain)
        case 1:
            let plain = input.rest()
            let datagram = key.sealPlaintext(plain, nonce: nonce)
            let opened: (session: UInt64, packet: Packet)
            do {
                opened = try key.open(datagram)
            } catch {
                return
            }
            fuzzCheck(datagram.count <= Packet.maxDatagramBytes, "a datagram of \(datagram.count) bytes was opened")
            checkDecoded(session: opened.session, packet: opened.packet, plaintext: plain)
        default:
            let session = input.u64()
            guard let packet = PacketFields.build(&input) else { return }
            let datagram = key.seal(packet, session: session)
            guard let opened = try? key.open(datagram) else { return }
            fuzzCheck(opened.session == session, "session changed: \(session) → \(opened.session)")
            fuzzCheck(opened.packet == packet, "packet changed on the way: \(packet) → \(opened.packet)")
        }
    }

    /// The rules every decoded packet obeys, and canonical encoding.
    static func checkDecoded(session: UInt64, packet: Packet, plaintext: [UInt8]) {
        fuzzCheck(plaintext.count >= 9, "a plaintext of \(plaintext.count) bytes decoded")
        let s = plaintext[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        fuzzCheck(s == session, "session \(session) decoded from bytes saying \(s)")
        switch packet {
        case .beacon:
            break
        case .envelope(let bytes):
            fuzzCheck(!bytes.isEmpty, "empty envelope packet")
        case .fragment(_, let offset, let total, let chunk):
            fuzzCheck(!chunk.isEmpty, "empty fragment chunk")
            fuzzCheck(Int(offset) + chunk.count <= Int(total), "fragment beyond its total")
            fuzzCheck(Int(total) <= Envelope.maxEncodedBytes, "fragment total \(total) beyond the largest envelope")
        case .inventory(let lo, let hi, _, _, let prefixes):
            fuzzCheck(lo <= hi, "inventory range reversed")
            fuzzCheck(prefixes.count <= Packet.maxPrefixesPerPacket, "inventory of \(prefixes.count) prefixes")
            fuzzCheck(prefixes.allSatisfy { lo <= $0 && $0 <= hi }, "inventory prefix outside its range")
        case .want(_, _, let prefixes):
            fuzzCheck(prefixes.count <= Packet.maxPrefixesPerPacket, "want of \(prefixes.count) prefixes")
        case .coded(let members, let coefficients, let payload):
            fuzzCheck((1...CodedRepair.maxMembers).contains(members.count), "coded packet of \(members.count)")
            fuzzCheck(zip(members, members.dropFirst()).allSatisfy { $0 < $1 }, "coded members not ascending")
            fuzzCheck(coefficients.count == members.count, "coded coefficients do not match the members")
            fuzzCheck(!coefficients.contains(0), "coded coefficient zero")
            fuzzCheck(payload.count >= Envelope.headerBytes, "coded payload shorter than an envelope header")
        case .parity(_, let total, _, let chunk):
            fuzzCheck(chunk.count == Packet.maxChunkBytes, "parity of \(chunk.count) bytes")
            fuzzCheck(Int(total) <= Envelope.maxEncodedBytes, "parity total \(total) beyond the largest envelope")
            fuzzCheck(Int(total) > Packet.maxChunkBytes, "parity of an envelope with one fragment")
        case .summary(let lo, let hi, let count, _, let ranges):
            fuzzCheck(lo <= hi, "summary range reversed")
            fuzzCheck((1...Packet.maxSummaryRanges).contains(ranges.count), "summary of \(ranges.count) ranges")
            fuzzCheck(ranges.first.map { $0.upperBound >= lo } ?? false, "summary starting below lo")
            fuzzCheck(
                zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound < $1.upperBound },
                "summary bounds not ascending")
            fuzzCheck(ranges.last?.upperBound == hi, "summary not ending at hi")
            fuzzCheck(ranges.reduce(UInt64(0)) { $0 + UInt64($1.count) } <= UInt64(count), "summary above its count")
        }
        let resealed = key.seal(packet, session: session)
        fuzzCheck(resealed.count <= Packet.maxDatagramBytes, "a decoded packet does not fit a datagram again")
        fuzzCheck(key.openPlaintext(resealed) == plaintext, "encoding is not canonical for \(packet)")
    }
}
