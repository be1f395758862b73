import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A random group in 239.192/16 and a random high port, so concurrent runs never hear each other.
public func randomGroupAndPort() -> (String, Int) {
    ("239.192.\(Int.random(in: 1...250)).\(Int.random(in: 1...250))", Int.random(in: 20_000...60_000))
}

public enum Privileges {
    public static var isRoot: Bool { geteuid() == 0 }
}

/// `iproute2`'s `ip`, wherever this system keeps it.
public var ipPath: String {
    FileManager.default.fileExists(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip"
}

/// Daemons on one host reach each other over multicast on `lo`, which needs the interface's MULTICAST flag.
public enum Loopback {
    public static var hasMulticast: Bool {
        guard let s = try? String(contentsOfFile: "/sys/class/net/lo/flags", encoding: .utf8),
            let flags = Int(s.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16)
        else { return false }
        return flags & 0x1000 != 0  // IFF_MULTICAST
    }

    /// Whether `lo` has the flag, after turning it on when running as root (the tests do; checked once).
    public static let multicastReady: Bool = {
        if hasMulticast { return true }
        guard Privileges.isRoot else { return false }
        _ = try? runCommand(ipPath, ["link", "set", "lo", "multicast", "on"], timeout: 30)
        return hasMulticast
    }()
}

/// Throws a message saying how to fix it when `lo` lacks the MULTICAST flag (the benchmark never changes it).
public func checkLoopbackMulticast() throws {
    guard Loopback.hasMulticast else {
        throw KitError("loopback has no MULTICAST flag; run (as root): ip link set lo multicast on")
    }
}
