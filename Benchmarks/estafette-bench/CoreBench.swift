import EstafetteCore

/// Two `MeshNode`s in one process, wired back to back: A's datagrams go straight into B's `receive`, and both
/// "stores" are dictionaries. This is the protocol core's cost per message without sockets, SQLite or the API.
struct CorePipeline {
    var a: MeshNode
    var b: MeshNode
    var storeA: [EnvelopeID: StoredEnvelope] = [:]
    var storeB: [EnvelopeID: StoredEnvelope] = [:]
    var inboxB: [EnvelopeID: ReceivedMessage] = [:]
    var datagrams = 0
    let addressA = PeerAddress(host: "192.0.2.1", port: 40_001, interface: 0)

    init(a identityA: SigningKeyPair, b identityB: SigningKeyPair) {
        a = MeshNode(identity: identityA, meshKey: .publicDefault, session: 0xA, seed: 1)
        b = MeshNode(identity: identityB, meshKey: .publicDefault, session: 0xB, seed: 2)
    }

    /// A submits one envelope; every datagram it multicasts is received by B; stores go to memory.
    mutating func push(_ envelope: Envelope, now: Millis) throws {
        let actions: [MeshNode.Action]
        do {
            actions = try a.submit(envelope, now: now).actions
        } catch {
            throw BenchError("A refused an envelope: \(error.reason)")
        }
        for action in actions {
            switch action {
            case .store(let s, _):
                storeA[s.id] = s
            case .multicast(let d, _):
                datagrams += 1
                let received = b.receive(d, from: addressA, now: now, store: storeB)
                for r in received {
                    if case .store(let s, let m) = r {
                        storeB[s.id] = s
                        if let m { inboxB[m.id] = m }
                    }
                }
            default:
                break
            }
        }
    }
}

enum CoreBench {
    static func run(n: Int, floor given: CryptoFloor?) throws {
        Out.section("core (two MeshNodes in one process, in-memory stores, N = \(n))")
        let floor = try given ?? CryptoBench.floor(textBytes: 100, seconds: 0.5)
        let ka = CryptoBench.sender
        let kb = CryptoBench.recipient
        let now = wallMillis()
        let nowSec = UInt64(now / 1000)
        let exp = nowSec + 6 * 24 * 3600
        let texts100 = (0..<n).map { sampleText(bytes: 100, seed: $0) }

        // 1. Sealing inside the timed loop: what a send costs end to end through the core.
        do {
            var p = CorePipeline(a: ka, b: kb)
            let start = monoNanos()
            for t in texts100 {
                let e = try DirectMessage.seal(text: t, from: ka, to: kb.publicKey, createdAt: nowSec, expiresAt: exp)
                try p.push(e, now: now)
            }
            let s = secondsSince(start)
            try check(p, n: n, messages: n, "direct 100B incl. seal")
            let r = Rate(opsPerSecond: Double(n) / s)
            report("core.direct_100B.pipeline_incl_seal", r)
            Out.value(
                "core.direct_100B.pipeline_incl_seal.vs_crypto_floor", r.opsPerSecond / floor.floor.opsPerSecond, "x",
                digits: 3)
            // One thread does both ends here, so the matching crypto-only rate is 1 / (seal + open).
            Out.value(
                "core.direct_100B.pipeline_incl_seal.vs_seal_plus_open",
                (floor.send.microsPerOp + floor.receive.microsPerOp) / r.microsPerOp, "x", digits: 3)
            Out.value(
                "core.direct_100B.pipeline_incl_seal.overhead_beyond_seal_and_open",
                r.microsPerOp - floor.send.microsPerOp - floor.receive.microsPerOp, "µs/msg", digits: 2)
        }

        // 2. Pre-sealed: the core pipeline without the sender's seal (B still opens every message: it must,
        // to know the message is for it).
        let sealed100 = try texts100.map {
            try DirectMessage.seal(text: $0, from: ka, to: kb.publicKey, createdAt: nowSec, expiresAt: exp)
        }
        do {
            var p = CorePipeline(a: ka, b: kb)
            let start = monoNanos()
            for e in sealed100 { try p.push(e, now: now) }
            let s = secondsSince(start)
            try check(p, n: n, messages: n, "direct 100B pre-sealed")
            let r = Rate(opsPerSecond: Double(n) / s)
            report("core.direct_100B.pipeline_excl_seal", r)
            Out.value(
                "core.direct_100B.pipeline_excl_seal.vs_open_rate", r.opsPerSecond / floor.receive.opsPerSecond, "x",
                digits: 3)
            Out.value(
                "core.direct_100B.pipeline_excl_seal.overhead_beyond_open",
                r.microsPerOp - floor.receive.microsPerOp, "µs/msg", digits: 2)
            Out.int("core.direct_100B.datagrams_per_message", p.datagrams / n)
        }

        // 3. Pre-sealed 1000-byte messages: two datagrams each (fragmentation and reassembly).
        do {
            let texts = (0..<n).map { sampleText(bytes: 1000, seed: $0) }
            let sealed = try texts.map {
                try DirectMessage.seal(text: $0, from: ka, to: kb.publicKey, createdAt: nowSec, expiresAt: exp)
            }
            var p = CorePipeline(a: ka, b: kb)
            let start = monoNanos()
            for e in sealed { try p.push(e, now: now) }
            let s = secondsSince(start)
            try check(p, n: n, messages: n, "direct 1000B pre-sealed")
            report("core.direct_1000B.pipeline_excl_seal", Rate(opsPerSecond: Double(n) / s))
            Out.int("core.direct_1000B.datagrams_per_message", p.datagrams / n)
        }

        // 4. Channel envelopes (carried without message crypto): the core's own overhead — encode, BLAKE2b id,
        // mesh AEAD seal/open, decode, dedup index, actions.
        // 5. Channel envelopes of 2000 bytes: two datagrams each, to isolate fragmentation and reassembly.
        for (seed, sizes, name) in [(UInt64(7), 300...600, "channel_300_600B"), (8, 2000...2000, "channel_2000B")] {
            var rng = SplitMix64(seed: seed)
            let envelopes = (0..<n).map { _ in
                Envelope(kind: .channel, expiresAt: exp, body: randomBody(&rng, sizes))
            }
            var p = CorePipeline(a: ka, b: kb)
            let start = monoNanos()
            for e in envelopes { try p.push(e, now: now) }
            let s = secondsSince(start)
            try check(p, n: n, messages: 0, "\(name) envelopes")
            report("core.\(name).pipeline", Rate(opsPerSecond: Double(n) / s))
            if sizes.lowerBound > Packet.maxPayloadBytes {
                Out.int("core.\(name).datagrams_per_message", p.datagrams / n)
            }
        }

        // 6. What A alone spends to submit a direct message it sealed: validation includes a trial open of
        // its own envelope (it is not addressed to A, so the outer sealed box fails).
        do {
            var a = MeshNode(identity: ka, meshKey: .publicDefault, session: 0xA, seed: 1)
            let start = monoNanos()
            for e in sealed100 { blackHole &+= UInt64(try a.submit(e, now: now).afterStore.count + 1) }
            let s = secondsSince(start)
            let direct = Rate(opsPerSecond: Double(n) / s)
            report("core.direct_100B.submit_only", direct)
            var rng = SplitMix64(seed: 9)
            let channel = (0..<n).map { _ in
                Envelope(kind: .channel, expiresAt: exp, body: randomBody(&rng, 300...300))
            }
            var c = MeshNode(identity: ka, meshKey: .publicDefault, session: 0xC, seed: 3)
            let start2 = monoNanos()
            for e in channel { blackHole &+= UInt64(try c.submit(e, now: now).afterStore.count + 1) }
            let channelRate = Rate(opsPerSecond: Double(n) / secondsSince(start2))
            report("core.channel_300B.submit_only", channelRate)
            Out.value(
                "core.direct_100B.submit_only.extra_vs_channel", direct.microsPerOp - channelRate.microsPerOp,
                "µs/msg", digits: 2)
            Out.note(
                "submit of a direct message trial-opens the sender's own envelope (not_for_us): compare "
                    + "crypto.direct.trial_open_not_for_us.100B")
        }
    }

    static func check(_ p: CorePipeline, n: Int, messages: Int, _ what: String) throws {
        guard p.storeA.count == n, p.storeB.count == n, p.inboxB.count == messages else {
            throw BenchError(
                "core pipeline (\(what)) lost messages: A stored \(p.storeA.count), B stored \(p.storeB.count), "
                    + "B delivered \(p.inboxB.count) of \(n); B counters: \(p.b.counters.values)")
        }
    }
}

func randomBody(_ rng: inout SplitMix64, _ range: ClosedRange<Int>) -> [UInt8] {
    let n = Int.random(in: range, using: &rng)
    var out = [UInt8]()
    out.reserveCapacity(n + 8)
    while out.count < n {
        withUnsafeBytes(of: rng.next()) { out.append(contentsOf: $0) }
    }
    return Array(out.prefix(n))
}
