import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `estafette-bench`: prints `name: value unit` lines. See docs/benchmarks.md.
@main
struct EstafetteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estafette-bench",
        abstract: "Estafette benchmarks: crypto floor, core pipeline, end to end on loopback, daemon footprint.",
        subcommands: [
            CryptoCommand.self, CoreCommand.self, E2ECommand.self, FootprintCommand.self, AllCommand.self,
            NegentropyCommand.self, RelayCommand.self, RelayScaleCommand.self,
        ])
}

struct CommonOptions: ParsableArguments {
    @Option(help: "Seconds per crypto operation (median of 5 rounds).")
    var cryptoSeconds: Double = 1.0
}

struct CoreOptions: ParsableArguments {
    @Option(name: .customLong("core-messages"), help: "Messages through the in-process pipeline.")
    var messages = 20_000
}

struct E2EArguments: ParsableArguments {
    @Option(help: "Messages for the throughput run.")
    var messages = 10_000
    @Option(help: "Connections to A for the throughput run.")
    var connections = 4
    @Option(help: "Outstanding requests per connection.")
    var window = 64
    @Option(help: "Messages for the latency run.")
    var latencyMessages = 2_500
    @Option(help: "Offered load of the latency run, messages per second.")
    var rate = 100.0
    @Option(help: "The estafetted to run (default: the one next to this benchmark).")
    var daemon: String? = nil
    @Option(
        help: ArgumentHelp(
            "A second estafetted to compare with --daemon, interleaved in one run (e.g. the previous commit's).",
            discussion: "Prints each build's throughput, CPU per message and latency, and the ratios."))
    var baselineDaemon: String? = nil
    @Option(help: "Interleaved rounds per build when comparing (throughput runs; latency messages are split).")
    var rounds = 3

    var options: E2EOptions {
        var o = E2EOptions()
        o.messages = messages
        o.connections = max(1, connections)
        o.window = max(1, window)
        o.latencyMessages = latencyMessages
        o.rate = rate
        o.daemon = daemon
        o.baselineDaemon = baselineDaemon
        o.rounds = rounds
        return o
    }
}

struct FootprintArguments: ParsableArguments {
    @Option(help: "Envelopes to store.")
    var envelopes = 100_000
    @Option(help: "Envelopes over which disk writes per envelope are measured.")
    var ioSample = 10_000
    @Option(help: "Seconds to let the daemon settle before reading RSS.")
    var settle = 3.0
    @Option(help: "Seconds idle over which disk writes are measured (stated per hour); 0 skips it.")
    var idleSeconds = 60.0
    @Option(help: "The estafetted to measure (default: the one next to this benchmark), e.g. dist's static build.")
    var daemon: String? = nil

    var options: FootprintOptions {
        FootprintOptions(envelopes: envelopes, ioSample: ioSample, settle: settle, idleSeconds: idleSeconds, daemon: daemon)
    }
}

/// Runs a benchmark body with clean-up on every path, and a clear message and exit status 1 on error.
func guarded(_ body: () throws -> Void) throws {
    signal(SIGPIPE, SIG_IGN)
    Cleanup.installSignalHandlers(program: "estafette-bench")
    printHeader()
    let start = monoNanos()
    do {
        try body()
        Cleanup.runAll()
        Out.note("done in \(fmt(secondsSince(start), 0)) s; load average now \(loadAverage())")
    } catch {
        Cleanup.runAll()
        FileHandle.standardError.write(Data("estafette-bench: error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

func printHeader() {
    var u = utsname()
    uname(&u)
    let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let cpu =
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
    let date = ISO8601DateFormatter().string(from: Date())
    Out.note(
        "estafette-bench \(date); \(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)); Linux \(release)")
    Out.note("load average at start \(loadAverage()) (other work on the machine skews every figure)")
}

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?")
        .split(separator: " ").prefix(3).joined(separator: " ")
}

struct CryptoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crypto", abstract: "Crypto floor per message.")
    @OptionGroup var common: CommonOptions
    func run() throws { try guarded { try CryptoBench.run(seconds: common.cryptoSeconds) } }
}

struct CoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core", abstract: "Two MeshNodes in one process: messages/s through the core pipeline.")
    @OptionGroup var core: CoreOptions
    func run() throws { try guarded { try CoreBench.run(n: core.messages, floor: nil) } }
}

struct E2ECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e", abstract: "Two release daemons on loopback: throughput and latency of direct messages.")
    @OptionGroup var e2e: E2EArguments
    func run() throws { try guarded { try E2EBench.run(e2e.options) } }
}

struct FootprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "footprint", abstract: "RSS idle and with a full store; disk bytes per stored envelope.")
    @OptionGroup var footprint: FootprintArguments
    func run() throws { try guarded { try FootprintBench.run(footprint.options) } }
}

struct AllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Every benchmark, in order.")
    @OptionGroup var common: CommonOptions
    @OptionGroup var core: CoreOptions
    @OptionGroup var e2e: E2EArguments
    @OptionGroup var footprint: FootprintArguments

    func run() throws {
        try guarded {
            let floor = try CryptoBench.run(seconds: common.cryptoSeconds)
            try CoreBench.run(n: core.messages, floor: floor)
            try E2EBench.run(e2e.options)
            try FootprintBench.run(footprint.options)
        }
    }
}
