import EstafetteCore
import FuzzSupport

/// Fuzz target `mesh-node`: a sequence of datagrams from a hostile LAN, sealed with the public mesh key, into one
/// `MeshNode` (Bob) on a virtual clock, with a shell that keeps its store, fires its timers and checks its
/// actions (`Shell`).
///
/// Input: settings u8 (bit 0: small bounds; bits 4–7: every n-th store fails), seed u64, then operations (see
/// `step`): genuine envelopes whole or in pieces, beacons, inventories, wants and coded packets about them,
/// packets of any type from fields, raw bytes, time passing (timers fire in order) or jumping (a machine
/// waking up: timers fire late), and local sends.
///
/// Checks, after every operation: the node's state stays within its bounds and agrees with the store; it
/// stores only valid envelopes, each once; it delivers only messages a genuine sender made, unaltered; every
/// datagram it sends opens and fits.
enum MeshNodeFuzz {
    static let key = MeshKey.publicDefault
    static let ownSession: UInt64 = 0xB0B0

    static func run(_ input: FuzzInput) {
        var input = input
        let variant = input.u8()
        var settings = MeshNode.Settings()
        if variant & 1 != 0 {
            settings.maxPendingWants = 4
            settings.reassembly.maxTotalBytes = 40_000
            settings.reassembly.maxStreamsPerSource = 2
            settings.reassembly.maxPiecesPerStream = 8
        }
        let node = MeshNode(
            identity: Pool.node, meshKey: key, session: ownSession, seed: input.u64(), settings: settings)
        var shell = Shell(node: node, settings: settings, now: Samples.now, failEvery: Int(variant >> 4))
        shell.perform(shell.node.start(now: shell.now))
        var steps = 0
        while !input.isEmpty, steps < 500 {
            step(&shell, &input)
            steps += 1
        }
    }

    static func step(_ shell: inout Shell, _ input: inout FuzzInput) {
        let op = input.u8() % 10
        let session = peerSession(&input)
        func send(_ packet: Packet) { shell.receive(key.seal(packet, session: session), from: session) }
        let pool = Pool.envelopes
        switch op {
        case 0:
            let e = pool[Int(input.u8()) % pool.count]
            if e.pieces.isEmpty { send(.envelope(e.bytes)) } else { e.pieces.forEach(send) }
        case 1:
            let e = Pool.long[Int(input.u8()) % Pool.long.count]
            let i = Int(input.u8())
            if i < e.pieces.count {
                send(e.pieces[i])
            } else {
                send(Pool.parity(of: e, index: UInt8(i)))
            }
        case 2:
            let (count, digest) = shell.node.storeDigest
            if input.bool() {
                send(.beacon(count: UInt32(count), digest: digest))
            } else {
                send(.beacon(count: input.u32() % 16, digest: pickID(&input)))
            }
        case 3:
            let prefixes = Set((0..<Int(input.u8() % 12)).map { _ in pickID(&input).prefix }).sorted()
            send(.inventory(lo: 0, hi: .max, count: input.u32() % 16, digest: pickID(&input), prefixes: prefixes))
        case 4:
            let target = input.bool() ? ownSession : UInt64(1 + input.u8() % 8)
            let prefixes = (0..<Int(input.u8() % 12)).map { _ in pickID(&input).prefix }
            send(.want(target: target, need: input.u16() % 8, prefixes: prefixes))
        case 5:
            if let packet = coded(&input) { send(packet) }
        case 6:
            if let packet = PacketFields.build(&input) { send(packet) }
        case 7:
            shell.receive(input.blob(max: 1_300), from: nil)
        case 8:
            if input.u8() < 224 {
                shell.advance(to: shell.now + Millis(input.u16()))
            } else {
                shell.jump(to: shell.now + Millis(input.u16()) * 1_000)
            }
        default:
            let e = pool[Int(input.u8()) % pool.count]
            let envelope = try! Envelope(decoding: e.bytes)
            if let submission = try? shell.node.submit(envelope, now: shell.now) { shell.perform(submission.actions) }
        }
    }

    /// Mostly a few peers (so that per-peer bounds are reached), sometimes the node's own session or any.
    static func peerSession(_ input: inout FuzzInput) -> UInt64 {
        switch input.u8() {
        case 0..<200: return UInt64(1 + input.u8() % 8)
        case 200..<210: return ownSession
        default: return input.u64()
        }
    }

    /// A genuine envelope's ID, or any.
    static func pickID(_ input: inout FuzzInput) -> EnvelopeID {
        let i = Int(input.u8())
        return i < Pool.envelopes.count ? Pool.envelopes[i].id : EnvelopeID(bytes: input.exactly(32))
    }

    /// A coded packet over genuine short envelopes: a true combination, or one with a forged payload.
    static func coded(_ input: inout FuzzInput) -> Packet? {
        let mask = input.u8()
        let members = Pool.codable.enumerated().filter { mask >> UInt8($0.offset % 8) & 1 == 1 }.map(\.element)
        guard !members.isEmpty else { return nil }
        let coefficients = members.map { _ in max(1, input.u8()) }
        var payload = GFOracle.combine(zip(coefficients, members).map { (coefficient: $0, bytes: $1.bytes) })
        if input.u8() < 32 {
            payload = input.blob(max: CodedRepair.maxMemberBytes)
        }
        return .coded(members: members.map(\.id.prefix), coefficients: coefficients, payload: payload)
    }
}
