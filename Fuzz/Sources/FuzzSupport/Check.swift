#if canImport(Glibc)
    import Glibc
#endif

/// Stops the run with `message` when `condition` is false: libFuzzer records the input as a crash. Run the
/// targets with `SWIFT_BACKTRACE=enable=no` (scripts/fuzz.sh does), so that libFuzzer's handler, not Swift's
/// backtracer, reports it.
@inline(__always)
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition() {
        fatalError("fuzz invariant broken: \(message())", file: file, line: line)
    }
}

/// Seeds: a target's valid examples and edge cases, written to the directory named by `FUZZ_MAKE_SEEDS`
/// (from `LLVMFuzzerInitialize`), after which the process exits. scripts/fuzz.sh --make-seeds runs it.
public enum FuzzSeeds {
    public static func writeIfAsked(_ make: () -> [(name: String, bytes: [UInt8])]) {
        guard let dir = getenv("FUZZ_MAKE_SEEDS").map({ String(cString: $0) }), !dir.isEmpty else { return }
        let seeds = make()
        for seed in seeds {
            let path = dir + "/" + seed.name
            guard let f = fopen(path, "wb") else { fatalError("cannot write seed \(path)") }
            let written = seed.bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
            guard written == seed.bytes.count else { fatalError("short write to \(path)") }
        }
        print("wrote \(seeds.count) seeds to \(dir)")
        exit(0)
    }
}
