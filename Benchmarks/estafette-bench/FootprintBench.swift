import EstafetteCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sends mesh datagrams to a multicast group on loopback, as a peer on the LAN would.
final class MulticastSender {
    let fd: Int32
    var destination = sockaddr_in()

    /// `source`: a loopback address to send from (any of 127.0.0.0/8), nil for the kernel's choice.
    init(group: String, port: Int, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("UDP socket(): \(String(cString: strerror(errno)))") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr = in_addr(s_addr: inet_addr(source))
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                let e = String(cString: strerror(errno))
                close(fd)
                throw BenchError("cannot bind a UDP socket to \(source): \(e)")
            }
        }
        var ifaddr = in_addr(s_addr: inet_addr("127.0.0.1"))
        var ttl: UInt8 = 1
        var loop: UInt8 = 1
        var sndbuf: Int32 = 4 << 20
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &ifaddr, socklen_t(MemoryLayout<in_addr>.size)) == 0,
            setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, 1) == 0,
            setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, 1) == 0
        else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw BenchError("cannot set multicast options on loopback: \(e)")
        }
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, 4)
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = in_port_t(port).bigEndian
        destination.sin_addr = in_addr(s_addr: inet_addr(group))
    }

    deinit { close(fd) }

    func send(_ datagram: [UInt8]) throws {
        while true {
            let n = datagram.withUnsafeBytes { p in
                withUnsafePointer(to: &destination) { d in
                    d.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, p.baseAddress!, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if n >= 0 { return }
            if errno == EINTR { continue }
            if errno == ENOBUFS || errno == EAGAIN {
                sleepSeconds(0.001)
                continue
            }
            throw BenchError("sendto failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// The kernel's UDP receive-error counters (all sockets): a datagram dropped before the daemon saw it.
func udpReceiveErrors() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return 0 }
    let rows = text.split(separator: "\n").filter { $0.hasPrefix("Udp:") }
    guard rows.count >= 2 else { return 0 }
    let names = rows[0].split(separator: " ")
    let values = rows[1].split(separator: " ")
    guard let i = names.firstIndex(of: "RcvbufErrors"), i < values.count else { return 0 }
    return Int(values[i]) ?? 0
}

/// Fills a daemon's store with `.channel` envelopes sent as mesh datagrams, paced so its 4096-datagram inbound
/// queue never overflows. They come from `sources` loopback addresses in turn, as from that many peers: the
/// daemon accepts at most 1,800 new envelopes a minute from one LAN source (issue 9's per-source budget), so
/// one address would fill 100,000 in about an hour. Envelopes lost anyway (kernel or queue drops) are replaced by new ones, so the store
/// ends up holding exactly `target` envelopes.
struct Injector {
    let daemon: Daemon
    let senders: [MulticastSender]
    var next = 0
    /// One session per source, as distinct peers would have.
    let sessions: [UInt64]
    var rng = SplitMix64(seed: Sodium.randomUInt64())
    let expiresAt = UInt64(wallMillis() / 1000) + 6 * 24 * 3600
    var sent = 0
    var presumedLost = 0
    /// Most datagrams sent but not yet stored (well under the daemon's queue of 4096).
    var maxInFlight = 1000

    init(daemon: Daemon, group: String, port: Int, sources: Int = 64) throws {
        self.daemon = daemon
        senders = try (1...sources).map { try MulticastSender(group: group, port: port, source: "127.0.\($0).1") }
        sessions = (0..<sources).map { _ in Sodium.randomUInt64() }
    }

    mutating func nextDatagram() -> [UInt8] {
        let e = Envelope(kind: .channel, expiresAt: expiresAt, tag: [], body: randomBody(&rng, 300...600))
        return MeshKey.publicDefault.seal(.envelope(e.encoded()), session: sessions[next])
    }

    /// Sends until the daemon's `envelopes` count reaches `target`. Returns seconds taken.
    mutating func fill(to target: Int, status: LineClient) throws -> Double {
        let start = monoNanos()
        let base = try Status(status.callObject("node.status")).envelopes - (sent - presumedLost)
        var lastStored = -1
        var lastChange = monoNanos()
        var lastReport = monoNanos()
        while true {
            let st = try Status(status.callObject("node.status"))
            let stored = st.envelopes
            if stored >= target { return secondsSince(start) }
            if stored != lastStored {
                lastStored = stored
                lastChange = monoNanos()
            }
            let inFlight = sent - presumedLost - (stored - base)
            let idle = secondsSince(lastChange)
            if inFlight > 0, idle > 1 {
                // Nothing stored for 1 s with datagrams outstanding: they were dropped. Send replacements.
                presumedLost += inFlight
                lastChange = monoNanos()
                continue
            }
            if idle > 60 {
                throw BenchError(
                    "the daemon stored nothing for 60 s (\(stored) of \(target)); drops: \(st.drops); log:\n\(daemon.logTail())"
                )
            }
            let need = target - stored - max(0, inFlight)
            let room = maxInFlight - max(0, inFlight)
            // Small bursts: the daemon's socket buffer (rmem_default) holds only ~100 such datagrams.
            let burst = min(need, room, 32)
            if burst > 0 {
                for _ in 0..<burst {
                    try senders[next].send(nextDatagram())
                    next = (next + 1) % senders.count
                    sent += 1
                }
                sleepSeconds(0.001)
            } else {
                sleepSeconds(0.01)
            }
            if secondsSince(lastReport) > 10 {
                lastReport = monoNanos()
                Out.progress(
                    "stored \(stored) of \(target) (\(fmt(Double(stored - max(0, base)) / secondsSince(start), 0))/s)")
            }
        }
    }
}

struct FootprintOptions {
    var envelopes = 100_000
    var ioSample = 10_000
    var settle = 3.0
    /// Seconds idle over which disk writes are measured (then stated per hour).
    var idleSeconds = 60.0
    /// The estafetted to measure (nil: the one next to this benchmark), e.g. the package's static build.
    var daemon: String? = nil
}

enum FootprintBench {
    static func run(_ o: FootprintOptions) throws {
        Out.section("footprint (one release estafetted on loopback; RSS from /proc/PID/status)")
        try checkLoopbackMulticast()
        let root = try makeScratchDir("footprint")
        let (group, port) = randomGroupAndPort()
        let d = try Daemon(name: "f", root: root, group: group, port: port, binary: o.daemon)
        if let b = o.daemon { Out.note("daemon: \(b)") }
        defer {
            d.stop()
            removeScratchDir(root)
        }
        let startup = try d.start()
        Out.value("footprint.startup_empty", startup * 1000, "ms", digits: 0)
        sleepSeconds(o.settle)
        try d.memory().report("footprint.idle")
        for (f, size) in d.databaseFiles() {
            Out.value("footprint.idle.file.\(f)", Double(size) / 1024, "KiB", digits: 0)
        }
        // An SD card wears with writes: what an idle node writes (beacons, timers, sweeps), stated per hour.
        if o.idleSeconds > 0 {
            let ioIdle0 = try d.io()
            sleepSeconds(o.idleSeconds)
            let ioIdle1 = try d.io()
            let perHour = 3600 / o.idleSeconds
            Out.value(
                "footprint.idle.write_bytes_per_hour", Double(ioIdle1.writeBytes - ioIdle0.writeBytes) * perHour, "B",
                digits: 0)
            Out.value(
                "footprint.idle.write_syscalls_per_hour", Double(ioIdle1.syscw - ioIdle0.syscw) * perHour, "",
                digits: 0)
            Out.note("idle writes measured over \(Int(o.idleSeconds)) s")
        }

        // Disk writes per stored envelope, over the first `ioSample` envelopes.
        var injector = try Injector(daemon: d, group: group, port: port)
        let status = try d.connect()
        let sample = min(o.ioSample, o.envelopes)
        let udpErr0 = udpReceiveErrors()
        Out.progress("storing \(sample) envelopes to measure disk writes")
        let io0 = try d.io()
        let cpu0 = cpuSeconds(pid: d.pid)
        let s1 = try injector.fill(to: sample, status: status)
        let io1 = try d.io()
        let cpu1 = cpuSeconds(pid: d.pid)
        let k = Double(sample)
        Out.value("footprint.store_rate_first_\(sample)", k / s1, "envelopes/s", digits: 0)
        Out.value("footprint.write_bytes_per_envelope", Double(io1.writeBytes - io0.writeBytes) / k, "B", digits: 0)
        Out.value("footprint.wchar_per_envelope", Double(io1.wchar - io0.wchar) / k, "B", digits: 0)
        Out.value("footprint.write_syscalls_per_envelope", Double(io1.syscw - io0.syscw) / k, "", digits: 1)
        Out.value("footprint.cpu_per_stored_envelope", (cpu1 - cpu0) / k * 1e6, "µs", digits: 0)
        Out.note("mean datagram sent ≈ \(Envelope.headerBytes + 450 + 9 + 43) B (channel envelope, body 300–600 B)")

        // The rest of the fill.
        Out.progress("filling the store to \(o.envelopes) envelopes")
        let s2 = try injector.fill(to: o.envelopes, status: status)
        let io2 = try d.io()
        let st = try d.status()
        let total = Double(o.envelopes)
        Out.int("footprint.envelopes_stored", st.envelopes)
        Out.value("footprint.fill_time", s1 + s2, "s", digits: 1)
        Out.value("footprint.store_rate_overall", Double(o.envelopes) / (s1 + s2), "envelopes/s", digits: 0)
        Out.value(
            "footprint.write_bytes_per_envelope_overall", Double(io2.writeBytes - io0.writeBytes) / total, "B",
            digits: 0)
        Out.int("footprint.datagrams_sent", injector.sent)
        Out.int("footprint.datagrams_presumed_lost", injector.presumedLost)
        Out.int("footprint.kernel_udp_rcvbuf_errors", udpReceiveErrors() - udpErr0)
        Out.note("daemon drop counters: \(st.drops)")
        status.close()
        sleepSeconds(o.settle)
        try d.memory().report("footprint.\(o.envelopes)_envelopes")
        var dbBytes = 0
        for (f, size) in d.databaseFiles() {
            Out.value("footprint.\(o.envelopes)_envelopes.file.\(f)", mib(size), "MiB", digits: 2)
            dbBytes += size
        }
        Out.value("footprint.\(o.envelopes)_envelopes.disk_bytes_per_envelope", Double(dbBytes) / total, "B", digits: 0)

        // Restart on the full store: start-up loads every envelope ID.
        let exit = d.stop()
        if exit != 0 { Out.note("daemon exited with status \(exit) on SIGTERM (expected 0)") }
        let files = d.databaseFiles()
        Out.value("footprint.after_stop.file.estafette.sqlite", mib(files[0].1), "MiB", digits: 2)
        let restart = try d.start(timeout: 120)
        Out.value("footprint.startup_with_\(o.envelopes)_envelopes", restart * 1000, "ms", digits: 0)
        let st2 = try d.status()
        guard st2.envelopes == st.envelopes else {
            throw BenchError("after restart the daemon holds \(st2.envelopes) envelopes, before \(st.envelopes)")
        }
        sleepSeconds(o.settle)
        try d.memory().report("footprint.\(o.envelopes)_envelopes_restarted")
    }
}
