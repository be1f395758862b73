import EstafetteTestKit
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Two LANs and a routed path between their relays, all in network namespaces created by the test:
///
/// ```
///  LAN1 bridge (10.214.1.0/24)        router                 LAN2 bridge (10.214.2.0/24)
///  A .1   R1 .2 ── wan0 10.214.9.2 ── w1 .9.1 | w2 .10.1 ── wan0 10.214.10.2  R2 .2   B .1   P .3
/// ```
/// The relays reach each other only through the router (IP forwarding on), so a capture on `w1` sees all
/// relay traffic; multicast stays on each bridge.
struct RelayTopology {
    let tag: String
    var sw1: String { tag + "s1" }
    var sw2: String { tag + "s2" }
    var router: String { tag + "rt" }
    func host(_ name: String) -> String { tag + name }
    static let lan1 = ["a", "r1"]
    static let lan2 = ["b", "r2", "p"]

    static func create() throws -> RelayTopology {
        let t = RelayTopology(tag: "er\(getpid() % 100_000)")
        t.teardown()
        let ip = Self.ip
        do {
            for ns in [t.sw1, t.sw2, t.router] + (lan1 + lan2).map(t.host) {
                try ip(["netns", "add", ns])
                try ip(["-n", ns, "link", "set", "lo", "up"])
            }
            for (sw, hosts, net) in [(t.sw1, lan1, "10.214.1"), (t.sw2, lan2, "10.214.2")] {
                try ip(["-n", sw, "link", "add", "br0", "type", "bridge"])
                try ip(["-n", sw, "link", "set", "br0", "up"])
                for (i, h) in hosts.enumerated() {
                    let port = "\(t.tag)\(h)p"
                    try ip([
                        "link", "add", "eth0", "netns", t.host(h), "type", "veth", "peer", "name", port, "netns", sw,
                    ])
                    try ip(["-n", sw, "link", "set", port, "master", "br0"])
                    try ip(["-n", sw, "link", "set", port, "up"])
                    try ip(["-n", t.host(h), "addr", "add", "\(net).\(i + 1)/24", "dev", "eth0"])
                    try ip(["-n", t.host(h), "link", "set", "eth0", "up"])
                }
            }
            // The routed path: R1 — router — R2.
            for (relay, rif, net) in [("r1", "w1", "10.214.9"), ("r2", "w2", "10.214.10")] {
                try ip([
                    "link", "add", "wan0", "netns", t.host(relay), "type", "veth", "peer", "name", rif, "netns",
                    t.router,
                ])
                try ip(["-n", t.router, "addr", "add", "\(net).1/30", "dev", rif])
                try ip(["-n", t.router, "link", "set", rif, "up"])
                try ip(["-n", t.host(relay), "addr", "add", "\(net).2/30", "dev", "wan0"])
                try ip(["-n", t.host(relay), "link", "set", "wan0", "up"])
                try ip(["-n", t.host(relay), "route", "add", "10.214.0.0/16", "via", "\(net).1"])
            }
            // P, the client with a wrong pin, has a path of its own to R1 through the router.
            try ip([
                "link", "add", "wan0", "netns", t.host("p"), "type", "veth", "peer", "name", "w3", "netns", t.router,
            ])
            try ip(["-n", t.router, "addr", "add", "10.214.11.1/30", "dev", "w3"])
            try ip(["-n", t.router, "link", "set", "w3", "up"])
            try ip(["-n", t.host("p"), "addr", "add", "10.214.11.2/30", "dev", "wan0"])
            try ip(["-n", t.host("p"), "link", "set", "wan0", "up"])
            try ip(["-n", t.host("p"), "route", "add", "10.214.9.0/24", "via", "10.214.11.1"])
            try Self.run(ipPath, ["netns", "exec", t.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        } catch {
            t.teardown()
            throw error
        }
        return t
    }

    func teardown() {
        for ns in [sw1, sw2, router] + (Self.lan1 + Self.lan2).map(host) {
            _ = try? Self.ip(["netns", "del", ns])
        }
    }

    func prefix(_ name: String) -> [String] { [ipPath, "netns", "exec", host(name)] }

    static func ip(_ args: [String]) throws { try run(ipPath, args) }

    /// Runs a command to its end (`runCommand`: no Foundation `Process`, no pipes, a deadline).
    static func run(_ path: String, _ args: [String]) throws {
        let r = try runCommand(path, args, timeout: 60)
        guard r.exitCode == 0 else {
            throw NamespaceLAN.SetupError(
                description: "\(path) \(args.joined(separator: " ")) failed with status \(r.exitCode): \(r.output)")
        }
    }
}

/// Every frame seen on one interface of a namespace, appended raw to a file by a small Python AF_PACKET
/// reader (no tcpdump on the test machines). Stopped with `stop()`.
final class LinkCapture: @unchecked Sendable {
    let path: String
    private var process: Child?

    init(namespace: String, interface: String, path: String) throws {
        self.path = path
        let ready = path + ".ready"
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
            s.bind((sys.argv[1], 0))
            f = open(sys.argv[2], "wb", buffering=0)
            open(sys.argv[3], "w").close()
            while True:
                f.write(s.recv(65535))
            """
        let process = try Child(
            path: ipPath, arguments: ["netns", "exec", namespace, "python3", "-c", script, interface, path, ready],
            logPath: "/dev/null")
        self.process = process
        // The socket is bound once the ready file exists (a file, not a pipe: see `RelayTopology.run`).
        try waitFor("the packet capture to start", timeout: 10) {
            guard process.isRunning else { throw NamespaceLAN.SetupError(description: "packet capture exited") }
            return FileManager.default.fileExists(atPath: ready)
        }
    }

    /// Kills the reader (SIGKILL: the test runner blocks SIGTERM, and children inherit that) and returns what
    /// it captured. Safe to call twice.
    func stop() -> [UInt8] {
        if let process, process.isRunning {
            kill(process.pid, SIGKILL)
            process.waitUntilExit()
        }
        return (FileManager.default.contents(atPath: path).map { [UInt8]($0) }) ?? []
    }
}

extension [UInt8] {
    /// Whether `needle` occurs anywhere in these bytes.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        let first = needle[0]
        var i = 0
        while i <= count - needle.count {
            if self[i] == first && Array(self[i..<(i + needle.count)]) == needle { return true }
            i += 1
        }
        return false
    }
}

/// The 32 key bytes of an `es1…` ID (base32, lower case, no padding; the 4 checksum bytes dropped).
func keyBytes(ofID id: String) -> [UInt8] {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    var out: [UInt8] = []
    var buffer: UInt32 = 0
    var bits = 0
    for c in id.dropFirst(3).utf8 {
        guard let v = alphabet.firstIndex(of: c) else { continue }
        buffer = buffer << 5 | UInt32(v)
        bits += 5
        if bits >= 8 {
            out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
            bits -= 8
        }
    }
    return Array(out.prefix(32))
}

func hexToBytes(_ hex: String) -> [UInt8] {
    let d = Array(hex.utf8)
    return stride(from: 0, to: d.count - 1, by: 2).compactMap {
        UInt8(String(decoding: d[$0..<($0 + 2)], as: UTF8.self), radix: 16)
    }
}
