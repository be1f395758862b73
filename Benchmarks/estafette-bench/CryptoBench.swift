import CSodium
import EstafetteCore

/// A measured rate of one operation.
struct Rate {
    let opsPerSecond: Double
    var microsPerOp: Double { 1e6 / opsPerSecond }

    init(opsPerSecond: Double) { self.opsPerSecond = opsPerSecond }
    init(microsPerOp: Double) { self.opsPerSecond = 1e6 / microsPerOp }
}

/// Keeps results alive so the optimiser cannot drop the work.
nonisolated(unsafe) var blackHole: UInt64 = 0

/// Runs `body` repeatedly on this thread for about `seconds` and returns the median rate of `rounds` rounds.
/// The machine is shared and noisy: the median of several short rounds is steadier than one long one.
func measure(seconds: Double, rounds: Int = 5, _ body: () throws -> UInt64) rethrows -> Rate {
    // Warm-up: caches, lazy initialisation (libsodium, the public mesh key).
    let warm = monoNanos()
    while secondsSince(warm) < min(0.05, seconds / 10) { blackHole &+= try body() }
    let perRound = seconds / Double(rounds)
    var rates: [Double] = []
    for _ in 0..<rounds {
        var ops = 0
        let start = monoNanos()
        var elapsed = 0.0
        repeat {
            for _ in 0..<8 { blackHole &+= try body() }
            ops += 8
            elapsed = secondsSince(start)
        } while elapsed < perRound
        rates.append(Double(ops) / elapsed)
    }
    return Rate(opsPerSecond: median(rates))
}

func report(_ name: String, _ r: Rate) {
    Out.value("\(name).rate", r.opsPerSecond, "ops/s", digits: 0)
    Out.value("\(name).time", r.microsPerOp, "µs/op", digits: 2)
}

/// A printable text of exactly `n` UTF-8 bytes (ASCII), different for each `seed`.
func sampleText(bytes n: Int, seed: Int = 0) -> String {
    let head = "bench message \(seed) "
    let words = "the quick brown fox jumps over the lazy dog "
    var s = head
    while s.utf8.count < n { s += words }
    return String(s.utf8.prefix(n))!
}

/// The crypto floor: what one message costs in public-key and symmetric crypto on this machine.
struct CryptoFloor {
    var send: Rate  // DirectMessage.seal
    var receive: Rate  // DirectMessage.open (success)
    var floor: Rate { send.opsPerSecond < receive.opsPerSecond ? send : receive }
}

enum CryptoBench {
    static let sender = SigningKeyPair.deterministic(1)
    static let recipient = SigningKeyPair.deterministic(2)
    static let bystander = SigningKeyPair.deterministic(3)

    static func expiry() -> UInt64 { UInt64(wallMillis() / 1000) + 6 * 24 * 3600 }

    /// Only the two figures that define the floor, for a `textBytes` message (used before the end-to-end run).
    static func floor(textBytes: Int, seconds: Double) throws -> CryptoFloor {
        let text = sampleText(bytes: textBytes)
        let exp = expiry()
        let now = exp - 6 * 24 * 3600
        let env = try DirectMessage.seal(
            text: text, from: sender, to: recipient.publicKey, createdAt: now, expiresAt: exp)
        let id = EnvelopeID(ofEncoded: env.encoded())
        let send = try measure(seconds: seconds) {
            let e = try DirectMessage.seal(
                text: text, from: sender, to: recipient.publicKey, createdAt: now, expiresAt: exp)
            return UInt64(e.body[0])
        }
        let receive = try measure(seconds: seconds) {
            UInt64(try DirectMessage.open(env, id: id, with: recipient).text.utf8.count)
        }
        return CryptoFloor(send: send, receive: receive)
    }

    /// The full `crypto` benchmark. Returns the floor for 100-byte messages.
    @discardableResult
    static func run(seconds: Double) throws -> CryptoFloor {
        Out.section("crypto (single thread; median of 5 rounds, \(fmt(seconds, 1)) s per operation)")
        let mesh = MeshKey.publicDefault
        var floor100: CryptoFloor? = nil
        for size in [100, 1000] {
            let tag = "\(size)B"
            let text = sampleText(bytes: size)
            let exp = expiry()
            let now = exp - 6 * 24 * 3600
            let env = try DirectMessage.seal(
                text: text, from: sender, to: recipient.publicKey, createdAt: now, expiresAt: exp)
            let encoded = env.encoded()
            let id = EnvelopeID(ofEncoded: encoded)

            let seal = try measure(seconds: seconds) {
                let e = try DirectMessage.seal(
                    text: text, from: sender, to: recipient.publicKey, createdAt: now, expiresAt: exp)
                return UInt64(e.body[0])
            }
            report("crypto.direct.seal.\(tag)", seal)
            let open = try measure(seconds: seconds) {
                UInt64(try DirectMessage.open(env, id: id, with: recipient).text.utf8.count)
            }
            report("crypto.direct.open.\(tag)", open)
            // Someone else's message: the outer sealed box does not open.
            let trial = try measure(seconds: seconds) {
                do {
                    _ = try DirectMessage.open(env, id: id, with: bystander)
                } catch let e as MessageError where e == .notForUs {
                    return 1
                } catch {
                    throw BenchError("trial open failed with \(error), expected not_for_us")
                }
                throw BenchError("a bystander opened a direct message")
            }
            report("crypto.direct.trial_open_not_for_us.\(tag)", trial)
            // As the daemon does it: keys validated and converted once, the inner box with the pair's precomputed
            // key (KeyCache + SharedKeyCache). What is left is the outer sealed box and symmetric work.
            var senderKeys = KeyCache()
            var recipientKeys = KeyCache()
            let sealCached = try measure(seconds: seconds) {
                let e = try DirectMessage.seal(
                    text: text, from: sender, to: recipient.publicKey, createdAt: now, expiresAt: exp,
                    keys: &senderKeys)
                return UInt64(e.body[0])
            }
            report("crypto.direct.seal_cached.\(tag)", sealCached)
            let openCached = try measure(seconds: seconds) {
                UInt64(try DirectMessage.open(env, id: id, with: recipient, keys: &recipientKeys).text.utf8.count)
            }
            report("crypto.direct.open_cached.\(tag)", openCached)
            Out.value(
                "crypto.floor_cached.\(tag)", min(sealCached.opsPerSecond, openCached.opsPerSecond), "msg/s", digits: 0)

            let alert = try Alert.sign(text: text, by: sender, sequence: 1, createdAt: now, expiresAt: exp)
            let alertID = EnvelopeID(ofEncoded: alert.encoded())
            report(
                "crypto.alert.sign.\(tag)",
                try measure(seconds: seconds) {
                    UInt64(try Alert.sign(text: text, by: sender, sequence: 1, createdAt: now, expiresAt: exp).body[0])
                })
            report(
                "crypto.alert.verify.\(tag)",
                try measure(seconds: seconds) { try Alert.verify(alert, id: alertID).sequence ?? 0 })

            // Mesh layer: every datagram is sealed with the mesh key (XChaCha20-Poly1305).
            let packets = Fragmenter.packets(for: encoded, id: id)
            let datagrams = packets.map { mesh.seal($0, session: 42) }
            let biggest = datagrams.max { $0.count < $1.count }!
            let biggestPacket = packets[datagrams.firstIndex(of: biggest)!]
            Out.int("crypto.envelope_bytes.\(tag)", encoded.count, "B")
            Out.int("crypto.datagrams_per_message.\(tag)", datagrams.count)
            let meshSeal = measure(seconds: seconds) { UInt64(mesh.seal(biggestPacket, session: 42).count) }
            report("crypto.mesh.seal.\(biggest.count)B_datagram", meshSeal)
            let meshOpen = try measure(seconds: seconds) { try mesh.open(biggest).session }
            report("crypto.mesh.open.\(biggest.count)B_datagram", meshOpen)
            let hash = measure(seconds: seconds) { EnvelopeID(ofEncoded: encoded).w0 }
            report("crypto.blake2b256.\(encoded.count)B_envelope", hash)

            let dg = Double(datagrams.count)
            let sendAll = Rate(microsPerOp: seal.microsPerOp + hash.microsPerOp + dg * meshSeal.microsPerOp)
            let recvAll = Rate(microsPerOp: open.microsPerOp + hash.microsPerOp + dg * meshOpen.microsPerOp)
            let relay = Rate(microsPerOp: trial.microsPerOp + hash.microsPerOp + dg * meshOpen.microsPerOp)
            Out.value("crypto.per_message.send_incl_mesh_and_id.\(tag)", sendAll.microsPerOp, "µs", digits: 2)
            Out.value("crypto.per_message.receive_incl_mesh_and_id.\(tag)", recvAll.microsPerOp, "µs", digits: 2)
            Out.value("crypto.per_message.carry_not_for_us_incl_mesh_and_id.\(tag)", relay.microsPerOp, "µs", digits: 2)
            let f = CryptoFloor(send: seal, receive: open)
            Out.value("crypto.floor.\(tag)", f.floor.opsPerSecond, "msg/s", digits: 0)
            Out.note("crypto floor = min(DirectMessage.seal rate, DirectMessage.open rate), one core")
            Out.value(
                "crypto.floor_incl_mesh_and_id.\(tag)", min(sendAll.opsPerSecond, recvAll.opsPerSecond), "msg/s",
                digits: 0)
            if size == 100 { floor100 = f }
        }
        try primitives(seconds: seconds)
        return floor100!
    }

    /// The libsodium calls behind one 100-byte direct message, to see where the time goes.
    static func primitives(seconds: Double) throws {
        Out.note(
            "libsodium primitives behind one 100-byte direct message (seal = pk→x25519 + box_easy + box_seal; "
                + "open = seal_open + is_valid_point + pk→x25519 + box_open_easy)")
        _ = Sodium.ready
        let a = SigningKeyPair.deterministic(11)
        let b = SigningKeyPair.deterministic(12)
        let edPK = a.publicKey.bytes
        var xa = [UInt8](repeating: 0, count: 32), xaSK = [UInt8](repeating: 0, count: 32)
        var xb = [UInt8](repeating: 0, count: 32), xbSK = [UInt8](repeating: 0, count: 32)
        _ = crypto_box_keypair(&xa, &xaSK)
        _ = crypto_box_keypair(&xb, &xbSK)
        let plain = [UInt8](repeating: 0x61, count: 117)
        let nonce = [UInt8](repeating: 7, count: 24)
        var boxed = [UInt8](repeating: 0, count: plain.count + crypto_box_macbytes())
        _ = crypto_box_easy(&boxed, plain, UInt64(plain.count), nonce, xb, xaSK)
        let padded = [UInt8](repeating: 0x62, count: 256)
        var sealed = [UInt8](repeating: 0, count: padded.count + crypto_box_sealbytes())
        _ = crypto_box_seal(&sealed, padded, UInt64(padded.count), xb)
        let msg = [UInt8](repeating: 0x63, count: 100)
        let sig = a.sign(msg)
        _ = b

        report(
            "crypto.primitive.ed25519_is_valid_point",
            measure(seconds: seconds) {
                UInt64(crypto_core_ed25519_is_valid_point(edPK))
            })
        report(
            "crypto.primitive.ed25519_pk_to_x25519",
            measure(seconds: seconds) {
                var out = [UInt8](repeating: 0, count: 32)
                return UInt64(crypto_sign_ed25519_pk_to_curve25519(&out, edPK)) &+ UInt64(out[0])
            })
        report(
            "crypto.primitive.box_easy_117B",
            measure(seconds: seconds) {
                var out = [UInt8](repeating: 0, count: plain.count + crypto_box_macbytes())
                return UInt64(crypto_box_easy(&out, plain, UInt64(plain.count), nonce, xb, xaSK)) &+ UInt64(out[0])
            })
        report(
            "crypto.primitive.box_open_easy_117B",
            try measure(seconds: seconds) {
                var out = [UInt8](repeating: 0, count: plain.count)
                guard crypto_box_open_easy(&out, boxed, UInt64(boxed.count), nonce, xa, xbSK) == 0 else {
                    throw BenchError("box_open_easy failed")
                }
                return UInt64(out[0])
            })
        report(
            "crypto.primitive.box_seal_256B",
            measure(seconds: seconds) {
                var out = [UInt8](repeating: 0, count: padded.count + crypto_box_sealbytes())
                return UInt64(crypto_box_seal(&out, padded, UInt64(padded.count), xb)) &+ UInt64(out[0])
            })
        report(
            "crypto.primitive.box_seal_open_256B",
            try measure(seconds: seconds) {
                var out = [UInt8](repeating: 0, count: padded.count)
                guard crypto_box_seal_open(&out, sealed, UInt64(sealed.count), xb, xbSK) == 0 else {
                    throw BenchError("box_seal_open failed")
                }
                return UInt64(out[0])
            })
        report(
            "crypto.primitive.box_beforenm",
            measure(seconds: seconds) {
                var k = [UInt8](repeating: 0, count: crypto_box_beforenmbytes())
                return UInt64(crypto_box_beforenm(&k, xb, xaSK)) &+ UInt64(k[0])
            })
        var shared = [UInt8](repeating: 0, count: crypto_box_beforenmbytes())
        guard crypto_box_beforenm(&shared, xb, xaSK) == 0 else { throw BenchError("box_beforenm failed") }
        report(
            "crypto.primitive.box_easy_afternm_117B",
            measure(seconds: seconds) {
                var out = [UInt8](repeating: 0, count: plain.count + crypto_box_macbytes())
                return UInt64(crypto_box_easy_afternm(&out, plain, UInt64(plain.count), nonce, shared))
                    &+ UInt64(out[0])
            })
        report("crypto.primitive.ed25519_sign_100B", measure(seconds: seconds) { UInt64(a.sign(msg)[0]) })
        report(
            "crypto.primitive.ed25519_verify_100B",
            measure(seconds: seconds) {
                UInt64(crypto_sign_verify_detached(sig, msg, UInt64(msg.count), edPK) + 1)
            })
        report("crypto.primitive.randombytes_24B", measure(seconds: seconds) { UInt64(Sodium.randomBytes(24)[0]) })
    }
}
