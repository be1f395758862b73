import ArgumentParser
import EstafetteCore
import EstafetteTestKit
import Foundation

/// `estafette-bench relay`: two release daemons on loopback, one holding N envelopes the other lacks, joined
/// by a relay link (docs/relays.md); the time until the second holds them all (issue 11: < 2 s for 10,000).
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay", abstract: "Relay link: full sync of N envelopes between two daemons on loopback.")
    @Option(help: "Envelopes the first relay holds and the second lacks.")
    var envelopes = 10_000
    func run() throws {
        try guarded { try RelayBench.run(envelopes: envelopes) }
    }
}

enum RelayBench {
    static func run(envelopes n: Int) throws {
        Out.section("relay (two release estafetted on loopback, separate LAN groups, one TCP relay link)")
        try checkLoopbackMulticast()
        let root = try makeScratchDir("relaybench")
        let (group1, port1) = randomGroupAndPort()
        var (group2, port2) = randomGroupAndPort()
        while group2 == group1 { (group2, port2) = randomGroupAndPort() }
        let listen = "127.0.0.1:\(Int.random(in: 20_000...60_000))"
        let r1 = try Daemon(name: "r1", root: root, group: group1, port: port1)
        let r2 = try Daemon(name: "r2", root: root, group: group2, port: port2)
        defer {
            r1.stop()
            r2.stop()
            removeScratchDir(root)
        }
        r1.extraArguments = ["--relay-listen", listen]
        try r1.start()
        var injector = try Injector(daemon: r1, group: group1, port: port1)
        Out.progress("filling the first relay with \(n) envelopes")
        _ = try injector.fill(to: n, status: try r1.connect())
        guard let id = try r1.call("identity.show")["id"] as? String else {
            throw BenchError("identity.show has no id")
        }
        r2.extraArguments = ["--relay", "\(id)@\(listen)"]
        let t0 = monoNanos()
        let startup = try r2.start()
        let status = try r2.connect()
        while true {
            let st = try Status(status.callObject("node.status"))
            if st.envelopes >= n { break }
            if secondsSince(t0) > 120 { throw BenchError("relay sync: \(st.envelopes) of \(n) after 120 s") }
            sleepSeconds(0.005)
        }
        let total = secondsSince(t0)
        Out.int("relay.envelopes", n)
        Out.value("relay.sync_from_spawn", total, "s", digits: 2)
        Out.value("relay.sync_after_api_up", total - startup, "s", digits: 2)
    }
}
