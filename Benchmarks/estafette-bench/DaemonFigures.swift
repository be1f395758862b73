import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the benchmarks read from a running daemon (started through EstafetteTestKit's `Daemon`).
extension Daemon {
    func status() throws -> Status { try Status(call("node.status")) }

    func id() throws -> String {
        guard let id = try call("identity.show")["id"] as? String else { throw BenchError("identity.show: no id") }
        return id
    }

    func memory() throws -> Memory {
        try ensureRunning()
        return try Memory(pid: pid)
    }

    func io() throws -> IOCounters {
        try ensureRunning()
        return try IOCounters(pid: pid)
    }

    /// Sizes of the SQLite files (main, -wal, -shm), in bytes.
    func databaseFiles() -> [(String, Int)] {
        ["estafette.sqlite", "estafette.sqlite-wal", "estafette.sqlite-shm"].map { f in
            let attrs = try? FileManager.default.attributesOfItem(atPath: dataDir + "/" + f)
            return (f, (attrs?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}

/// Memory figures of a process, from /proc/PID/status (bytes).
struct Memory {
    var rss = 0
    var hwm = 0
    var anon = 0
    var file = 0
    var threads = 0

    init(pid: Int32) throws {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            throw BenchError("cannot read /proc/\(pid)/status (process gone?)")
        }
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let v = Int(parts[1]) else { continue }
            switch parts[0] {
            case "VmRSS:": rss = v * 1024
            case "VmHWM:": hwm = v * 1024
            case "RssAnon:": anon = v * 1024
            case "RssFile:": file = v * 1024
            case "Threads:": threads = v
            default: break
            }
        }
    }

    func report(_ prefix: String) {
        Out.value("\(prefix).vmrss", mib(rss), "MiB")
        Out.value("\(prefix).vmhwm", mib(hwm), "MiB")
        Out.value("\(prefix).rss_anon", mib(anon), "MiB")
        Out.value("\(prefix).rss_file", mib(file), "MiB")
        Out.int("\(prefix).threads", threads)
    }
}

/// I/O counters of a process, from /proc/PID/io (bytes).
struct IOCounters {
    var writeBytes = 0  // reached the block layer
    var wchar = 0  // passed to write(2) and friends
    var syscw = 0

    init(pid: Int32) throws {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else {
            throw BenchError("cannot read /proc/\(pid)/io (needs root or the same user)")
        }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":")
            guard parts.count == 2, let v = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { continue }
            switch parts[0] {
            case "write_bytes": writeBytes = v
            case "wchar": wchar = v
            case "syscw": syscw = v
            default: break
            }
        }
    }
}

/// CPU time (user + system) of a process so far, in seconds, from /proc/PID/stat.
func cpuSeconds(pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return .nan }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the command: state(0) ... utime(11) stime(12), in clock ticks.
    guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return .nan }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The parts of `node.status` the benchmark reads.
struct Status {
    let envelopes: Int
    let peers: Int
    let counters: [String: Int]

    init(_ obj: [String: Any]) throws {
        guard let e = (obj["envelopes"] as? NSNumber)?.intValue, let p = (obj["peers"] as? NSNumber)?.intValue else {
            throw BenchError("node.status has an unexpected shape: \(obj)")
        }
        envelopes = e
        peers = p
        var c: [String: Int] = [:]
        for (k, v) in (obj["counters"] as? [String: Any]) ?? [:] {
            if let n = (v as? NSNumber)?.intValue { c[k] = n }
        }
        counters = c
    }

    subscript(counter: String) -> Int { counters[counter] ?? 0 }

    /// Every `drop.*` counter that is not zero, as `name=value` text.
    var drops: String {
        let d = counters.filter { $0.key.hasPrefix("drop.") && $0.value != 0 }.sorted { $0.key < $1.key }
        return d.isEmpty ? "none" : d.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
