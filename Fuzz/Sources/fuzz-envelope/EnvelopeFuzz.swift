import EstafetteCore
import FuzzSupport

/// Fuzz target `envelope`: the envelope decoder (`Envelope(decoding:)`), alert verification and direct-message
/// opening with a fixed key (Bob's).
///
/// Input: mode u8, then
/// - mode 0: raw envelope bytes; decoded, then verified (alert) or opened (direct);
/// - mode 1: expires_at u64 | padded inner bytes, sealed to Bob by the harness: reaches the padding and inner
///   layer checks;
/// - mode 2: expires_at u64 | block u8 | plain bytes, boxed by Alice to Bob and sealed: reaches the plaintext
///   checks (created_at, inner expiry, content type 1 or 2 (to delete at expiry) with UTF-8 text, or 3 (a delivery
///   receipt) with exactly a 32-byte envelope ID);
/// - mode 3: an alert from fields (text length field and text bytes as given), validly signed by Alice.
///
/// Checks: a decoded envelope re-encodes to the same bytes; a message that opens or verifies says what the
/// bytes say (sender, times, text); a well-formed message is accepted and a malformed one refused.
enum EnvelopeFuzz {
    static let me = Samples.bob
    static let sender = Samples.alice

    static func run(_ input: FuzzInput) {
        EnvelopeFuzz.selfCheck
        var input = input
        switch input.u8() % 4 {
        case 0:
            let bytes = input.rest()
            guard let envelope = try? Envelope(decoding: bytes) else { return }
            fuzzCheck(envelope.encoded() == bytes, "envelope encoding is not canonical")
            let id = EnvelopeID(ofEncoded: bytes)
            switch envelope.kind {
            case .alert:
                if let m = try? Alert.verify(envelope, id: id) { checkAlert(m, envelope) }
            case .direct:
                if let m = try? DirectMessage.open(envelope, id: id, with: me) {
                    fuzzCheck(m.expiresAt == envelope.expiresAt, "direct message expiry differs from its envelope")
                    fuzzCheck(m.text.utf8.count <= MessageLimits.maxTextBytes, "direct message text too long")
                }
            case .channel, .receipt:
                break
            }
        case 1:
            let expiresAt = input.u64()
            let padded = input.bytes(min(input.remaining, Envelope.maxBodyBytes - SealedBox.overhead))
            let body = try! SealedBox.seal(padded, to: me.boxPublicKey)
            let envelope = Envelope(kind: .direct, expiresAt: expiresAt, body: body)
            if let m = try? DirectMessage.open(envelope, id: .zero, with: me) {
                fuzzCheck(m.expiresAt == expiresAt, "direct message expiry differs from its envelope")
            }
        case 2:
            directFromPlaintext(&input)
        default:
            alertFromFields(&input)
        }
    }

    /// Alice boxes the fuzzer's plaintext to Bob; whether Bob accepts it must follow from the plaintext alone.
    static func directFromPlaintext(_ input: inout FuzzInput) {
        let expiresAt = input.u64()
        let blockChoice = input.u8()
        let plain = input.bytes(min(input.remaining, MessageLimits.maxTextBytes + 64))
        let nonce = [UInt8](repeating: 7, count: 24)
        let boxed = try! sender.box(plain, nonce: nonce, to: me.boxPublicKey)
        let inner = sender.publicKey.bytes + nonce + boxed
        // Usually the bucket the sender would pick; sometimes another power of two or none.
        var block = 256
        while block <= inner.count { block *= 2 }
        if blockChoice & 0x80 != 0 { block = 1 << Int(blockChoice & 0x0F) }
        guard block > 0, block <= 65_536 else { return }
        let padded = Sodium.pad(inner, blockSize: block)
        guard padded.count <= Envelope.maxBodyBytes - SealedBox.overhead else { return }
        let envelope = Envelope(kind: .direct, expiresAt: expiresAt, body: try! SealedBox.seal(padded, to: me.boxPublicKey))
        let result = Result { () throws(MessageError) in try DirectMessage.open(envelope, id: .zero, with: me) }

        var r = FuzzInput(plain)
        let createdAt = r.u64()
        let innerExpiry = r.u64()
        let contentType = r.u8()
        let textBytes = r.rest()
        let text = String(validating: textBytes, as: UTF8.self)
        let isReceipt = contentType == 3
        let contentOK =
            isReceipt
            ? textBytes.count == 32
            : (contentType == 1 || contentType == 2) && text != nil && textBytes.count <= MessageLimits.maxTextBytes
        let wellFormed =
            plain.count >= 17 && innerExpiry == expiresAt && contentOK && padded.count >= 256
            && padded.count <= 32_768 && padded.count & (padded.count - 1) == 0
        switch result {
        case .success(let m):
            fuzzCheck(wellFormed, "a malformed direct message was accepted: \(plain.prefix(32))")
            fuzzCheck(m.sender == sender.publicKey, "direct message from the wrong sender")
            fuzzCheck(m.createdAt == createdAt && m.expiresAt == expiresAt, "direct message times changed")
            fuzzCheck(m.kind == .direct && m.sequence == nil, "direct message kind")
            fuzzCheck(m.ephemeral == (contentType == 2), "content type 2 (and only it) marks a message to delete")
            if isReceipt {
                fuzzCheck(m.acknowledges?.bytes == textBytes && m.text.isEmpty, "receipt content changed")
            } else {
                fuzzCheck(m.text == text, "direct message text changed")
                fuzzCheck(m.acknowledges == nil, "a text read as a receipt")
            }
        case .failure(let e):
            fuzzCheck(!wellFormed, "a well-formed direct message was refused: \(e)")
        }
    }

    /// An alert from fields, validly signed: accepted exactly when the text length field matches, the text is
    /// UTF-8 and within the limit.
    static func alertFromFields(_ input: inout FuzzInput) {
        let expiresAt = input.u64()
        let tag = input.bytes(input.int(in: 0...Envelope.maxTagBytes))
        let sequence = input.u64()
        let createdAt = input.u64()
        let textLen = input.u16()
        let text = input.bytes(min(input.remaining, MessageLimits.maxTextBytes + 8))
        var unsigned = sender.publicKey.bytes
        unsigned.appendBE(sequence)
        unsigned.appendBE(createdAt)
        unsigned.appendBE(textLen)
        unsigned += text
        var envelope = Envelope(kind: .alert, expiresAt: expiresAt, tag: tag, body: [])
        envelope.body = unsigned + sender.sign(alertSigningPrefix(envelope) + unsigned)
        let result = Result { () throws(MessageError) in try Alert.verify(envelope, id: .zero) }
        let valid = text.count == Int(textLen) && text.count <= MessageLimits.maxTextBytes
            && String(validating: text, as: UTF8.self) != nil
        switch result {
        case .success(let m):
            fuzzCheck(valid, "a malformed alert was accepted")
            checkAlert(m, envelope)
            fuzzCheck(m.sequence == sequence && m.createdAt == createdAt, "alert fields changed")
            fuzzCheck(Array(m.text.utf8) == text, "alert text changed")
        case .failure(let e):
            fuzzCheck(!valid, "a valid alert was refused: \(e)")
        }
    }

    static func checkAlert(_ m: ReceivedMessage, _ envelope: Envelope) {
        fuzzCheck(m.kind == .alert && m.sequence != nil, "alert kind")
        fuzzCheck(m.sender.bytes == Array(envelope.body.prefix(32)), "alert author is not the key in its body")
        fuzzCheck(m.expiresAt == envelope.expiresAt, "alert expiry differs from its envelope")
        fuzzCheck(m.text.utf8.count <= MessageLimits.maxTextBytes, "alert text too long")
    }

    /// What an alert signature covers before the body: the domain and the envelope header (docs/protocol.md).
    static func alertSigningPrefix(_ e: Envelope) -> [UInt8] {
        var out = Array("estafette/alert/v1".utf8) + [Envelope.currentVersion, e.kind.rawValue]
        out.appendBE(e.expiresAt)
        out.append(UInt8(e.tag.count))
        return out + e.tag
    }

    /// The harness signs alerts as `Alert.sign` does; stop at once if that drifts.
    static let selfCheck: Void = {
        let good = Samples.alert("self check")
        var rebuilt = Envelope(kind: .alert, expiresAt: good.expiresAt, tag: good.tag, body: [])
        let unsigned = Array(good.body.dropLast(64))
        rebuilt.body = unsigned + Samples.alice.sign(alertSigningPrefix(rebuilt) + unsigned)
        guard (try? Alert.verify(rebuilt, id: .zero)) != nil else {
            fatalError("the fuzz harness no longer signs alerts as Alert.sign does: update alertSigningPrefix")
        }
    }()
}
