@_spi(Fuzzing) import EstafetteCore
import FuzzSupport

/// Fuzz target `coded`: sequences of coded packets into the coded-repair decoder (`CodedDecoder`), as
/// `MeshNode` feeds it: combinations over the unknowns (the members it lacks), envelopes it learns whole, time
/// passing, and resets.
///
/// Input: settings u8 (bit 0: at most 4 rows), unknown count u8, one u16 length per unknown, then operations
/// (see `step`). Each unknown is a prefix with seeded random bytes (the ground truth); genuine combinations
/// are computed by an independent GF(2⁸) implementation (`GFOracle`).
///
/// Checks, after every operation: the decoder's rows stay reduced and within the bound; while it has seen only
/// genuine combinations, everything it solves is an unknown still lacking, and solves to its true bytes
/// (zero-padded).
enum CodedFuzz {
    struct State {
        var decoder: FuzzingCodedDecoder
        let maxRows: Int
        var prefixes: [UInt64]
        var truth: [UInt64: [UInt8]]
        var known: Set<UInt64> = []
        var now: Millis = Samples.now
        /// A forged combination went in since the last reset: what the decoder solves may be wrong.
        var tainted = false
    }

    static func run(_ input: FuzzInput) {
        var input = input
        let maxRows = input.u8() & 1 != 0 ? 4 : 64
        let n = 1 + Int(input.u8() % 40)
        var truth: [UInt64: [UInt8]] = [:]
        var prefixes: [UInt64] = []
        for i in 0..<n {
            // Prefixes far apart, in an order unrelated to their index.
            let prefix = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
            prefixes.append(prefix)
            let start = (i * 1_543) % (noise.count - 1_100)
            truth[prefix] = Array(noise[start..<(start + 1 + Int(input.u16()) % 1_100)])
        }
        var state = State(
            decoder: FuzzingCodedDecoder(maxRows: maxRows, timeoutMillis: 30_000), maxRows: maxRows,
            prefixes: prefixes, truth: truth)
        var steps = 0
        while !input.isEmpty, steps < 1_000 {
            step(&state, &input)
            if let broken = state.decoder.invariantViolation() { fuzzCheck(false, broken) }
            fuzzCheck(state.decoder.rowCount <= state.maxRows, "\(state.decoder.rowCount) rows")
            steps += 1
        }
    }

    static func step(_ s: inout State, _ input: inout FuzzInput) {
        switch input.u8() % 6 {
        case 0, 1:
            // A genuine combination of up to 32 unknowns still lacking, with non-zero coefficients.
            let lacking = s.prefixes.filter { !s.known.contains($0) }
            guard !lacking.isEmpty else { return }
            let mask = input.u64()
            var coefficients: [UInt64: UInt8] = [:]
            for (i, p) in lacking.enumerated() where mask >> UInt64(i % 64) & 1 == 1 && coefficients.count < 32 {
                coefficients[p] = max(1, input.u8())
            }
            let payload = GFOracle.combine(coefficients.map { (coefficient: $0.value, bytes: s.truth[$0.key]!) })
            apply(&s, s.decoder.add(coefficients, payload: payload, now: s.now))
        case 2:
            // A forged combination: any prefixes (known or not), coefficients (zero too) and payload.
            var coefficients: [UInt64: UInt8] = [:]
            for _ in 0..<Int(input.u8() % 33) {
                let p = input.bool() ? s.prefixes[Int(input.u8()) % s.prefixes.count] : UInt64(input.u8())
                coefficients[p] = input.u8()
            }
            s.tainted = true
            apply(&s, s.decoder.add(coefficients, payload: input.blob(max: 1_200), now: s.now))
        case 3:
            // An unknown arrives whole.
            let p = s.prefixes[Int(input.u8()) % s.prefixes.count]
            guard !s.known.contains(p) else { return }
            s.known.insert(p)
            applySolved(&s, s.decoder.learn(p, bytes: s.truth[p]!, now: s.now))
        case 4:
            s.now += Millis(input.u16()) * 10
            _ = s.decoder.expire(now: s.now)
        default:
            s.decoder.reset()
            s.tainted = false
        }
    }

    static func apply(_ s: inout State, _ outcome: FuzzingCodedDecoder.Outcome) {
        if case .added(let solved) = outcome { applySolved(&s, solved) }
    }

    /// Each solved unknown is then learnt, as `MeshNode` does once it stores the envelope; what that solves
    /// in turn is checked the same way.
    static func applySolved(_ s: inout State, _ solved: [FuzzingCodedDecoder.Solved]) {
        var queue = solved
        while !queue.isEmpty {
            let x = queue.removeFirst()
            if s.tainted {
                // MeshNode drops a solution that is not an envelope with that prefix, and resets the decoder;
                // one it holds already is a duplicate.
                guard let t = s.truth[x.prefix], isZeroPadded(x.bytes, of: t) else {
                    s.decoder.reset()
                    s.tainted = false
                    return
                }
                if s.known.contains(x.prefix) { continue }
            } else {
                fuzzCheck(s.truth[x.prefix] != nil, "solved \(x.prefix), which no combination mentioned")
                fuzzCheck(!s.known.contains(x.prefix), "solved \(x.prefix), which was already known")
                fuzzCheck(isZeroPadded(x.bytes, of: s.truth[x.prefix]!), "solved \(x.prefix) to the wrong bytes")
            }
            s.known.insert(x.prefix)
            queue += s.decoder.learn(x.prefix, bytes: s.truth[x.prefix]!, now: s.now)
        }
    }
}
