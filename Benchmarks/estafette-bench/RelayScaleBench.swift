import ArgumentParser
import EstafetteCore
import EstafetteTestKit
import Foundation
import GRDB

/// `estafette-bench relay-scale`: one relay holding a week of a city's traffic (issue 11: 1,000,000 stored
/// envelopes, RSS under 256 MB, start-up under 10 s, a peer that lacks 1,000 of them synced in under 5 s).
struct RelayScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay-scale",
        abstract: "A relay holding N envelopes: its start-up, its memory, and a peer lacking some synced.")
    @Option(help: "Envelopes the relay holds.")
    var envelopes = 1_000_000
    @Option(help: "Of those, how many the peer lacks (spread at random over the week).")
    var lack = 1_000
    func run() throws {
        guard lack > 0, lack < envelopes else { throw ValidationError("--lack must be between 1 and --envelopes") }
        try guarded { try RelayScaleBench.run(envelopes: envelopes, lack: lack) }
    }
}

enum RelayScaleBench {
    static func run(envelopes n: Int, lack: Int) throws {
        Out.section("relay-scale (two release estafetted on loopback: a relay holding N, a peer lacking some)")
        try checkLoopbackMulticast()
        let root = try makeScratchDir("relayscale")
        let (group1, port1) = randomGroupAndPort()
        var (group2, port2) = randomGroupAndPort()
        while group2 == group1 { (group2, port2) = randomGroupAndPort() }
        let listen = "127.0.0.1:\(Int.random(in: 20_000...60_000))"
        let relay = try Daemon(name: "relay", root: root, group: group1, port: port1)
        let peer = try Daemon(name: "peer", root: root, group: group2, port: port2)
        defer {
            relay.stop()
            peer.stop()
            removeScratchDir(root)
        }
        // Quotas large enough for the whole week: the figures are about holding it, not evicting it.
        let big = "\n[store]\nmax_bytes = 4294967296\n"
        try appendText(relay.configPath, big + "\n[relay]\nenabled = true\nlisten = \"\(listen)\"\nmax_bytes = 4294967296\n")
        try appendText(peer.configPath, big)

        // First start: each daemon makes its identity, keys and database (the schema is the daemon's own).
        try relay.start(timeout: 120)
        try peer.start(timeout: 120)
        let relayID = try relay.id()
        relay.stop()
        peer.stop()

        Out.progress("writing \(n) envelopes into the relay's database and \(n - lack) into the peer's")
        let t0 = monoNanos()
        let written = try fillStores(
            relay: relay.dataDir + "/estafette.sqlite", peer: peer.dataDir + "/estafette.sqlite", n: n, lack: lack)
        Out.int("relay_scale.envelopes", n)
        Out.int("relay_scale.peer_lacks", lack)
        Out.value("relay_scale.envelope_bytes_mean", Double(written) / Double(n), "B", digits: 0)
        Out.note("stores written directly with SQLite in \(fmt(secondsSince(t0), 1)) s (not a daemon figure)")
        for (f, size) in relay.databaseFiles() where size > 0 {
            Out.value("relay_scale.relay.\(f).size", mib(size), "MiB")
        }

        // The relay's start-up on a week of traffic: from spawning to answering node.status with every ID indexed.
        let startup = try relay.start(timeout: 120)
        let relayStatus = try relay.status()
        guard relayStatus.envelopes == n else {
            throw BenchError("the relay indexed \(relayStatus.envelopes) of \(n) stored envelopes")
        }
        Out.value("relay_scale.relay.startup", startup, "s", digits: 2)
        sleepSeconds(2)
        try relay.memory().report("relay_scale.relay.idle")

        // The peer starts with the link to the relay and 1,000 envelopes fewer: the time until it holds them all.
        peer.extraArguments = ["--relay", "\(relayID)@\(listen)"]
        let t1 = monoNanos()
        let peerStartup = try peer.start(timeout: 120)
        while true {
            let st = try peer.status()
            if st.envelopes >= n { break }
            if secondsSince(t1) > 300 {
                throw BenchError("peer sync: \(st.envelopes) of \(n) after 300 s; log:\n\(peer.logTail())")
            }
            sleepSeconds(0.005)
        }
        let total = secondsSince(t1)
        Out.value("relay_scale.peer.startup", peerStartup, "s", digits: 2)
        Out.value("relay_scale.peer.sync_from_spawn", total, "s", digits: 2)
        Out.value("relay_scale.peer.sync_after_api_up", total - peerStartup, "s", digits: 2)
        try relay.memory().report("relay_scale.relay.after_sync")
        try peer.memory().report("relay_scale.peer.after_sync")
        Out.note("issue 11 targets: relay vmhwm < 256 MiB, relay startup < 10 s, peer sync_after_api_up < 5 s")
    }

    /// Writes `n` channel envelopes (300–600 byte bodies, expiries spread over the next week, as a relay holds
    /// after a week of traffic) into the relay's `envelope` table, and all but `lack` of them, chosen at random,
    /// into the peer's. Returns the relay's encoded bytes.
    static func fillStores(relay: String, peer: String, n: Int, lack: Int) throws -> Int {
        var rng = SplitMix64(seed: Sodium.randomUInt64())
        var missing = Set<Int>()
        while missing.count < lack { missing.insert(Int.random(in: 0..<n, using: &rng)) }
        let now = UInt64(wallMillis() / 1000)
        let relayDB = try DatabaseQueue(path: relay)
        let peerDB = try DatabaseQueue(path: peer)
        let sql = "INSERT INTO envelope (id, kind, expires_at, received_at, data) VALUES (?, ?, ?, ?, ?)"
        var bytes = 0
        var i = 0
        let batch = 50_000
        while i < n {
            let end = min(n, i + batch)
            var rows: [(id: Data, expires: Int64, data: Data, toPeer: Bool)] = []
            rows.reserveCapacity(end - i)
            for k in i..<end {
                let expiresAt = now + UInt64.random(in: 3600...(7 * 24 * 3600), using: &rng)
                let e = Envelope(kind: .channel, expiresAt: expiresAt, tag: [], body: randomBody(&rng, 300...600))
                let encoded = e.encoded()
                bytes += encoded.count
                rows.append(
                    (Data(EnvelopeID(ofEncoded: encoded).bytes), Int64(expiresAt), Data(encoded), !missing.contains(k)))
            }
            let received = Int64(now)
            try relayDB.write { db in
                let stmt = try db.makeStatement(sql: sql)
                for r in rows {
                    try stmt.execute(arguments: [r.id, Int(Envelope.Kind.channel.rawValue), r.expires, received, r.data])
                }
            }
            try peerDB.write { db in
                let stmt = try db.makeStatement(sql: sql)
                for r in rows where r.toPeer {
                    try stmt.execute(arguments: [r.id, Int(Envelope.Kind.channel.rawValue), r.expires, received, r.data])
                }
            }
            i = end
            if i % 200_000 == 0 { Out.progress("\(i) of \(n)") }
        }
        try relayDB.close()
        try peerDB.close()
        return bytes
    }

    static func appendText(_ path: String, _ text: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
    }
}
