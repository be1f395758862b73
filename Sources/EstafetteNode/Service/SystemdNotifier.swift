#if canImport(Glibc)
    import Glibc
#endif

/// Tells systemd how the daemon is doing (`Type=notify`): one datagram per state (`READY=1`, `STOPPING=1`,
/// `WATCHDOG=1`) to the Unix socket named by `$NOTIFY_SOCKET`. Hand-written, no libsystemd.
///
/// Outside systemd (no `NOTIFY_SOCKET`) every call does nothing. A failed send is returned, never fatal: the
/// daemon keeps running and systemd's own timeouts decide.
public struct SystemdNotifier: Sendable {
    /// The socket address as systemd gave it: a path, or `@name` for the abstract namespace.
    public let socketPath: String?
    /// Half of `$WATCHDOG_USEC` (in nanoseconds) when the watchdog is on for this process, else nil.
    public let watchdogPingNanos: UInt64?

    /// Unix socket paths hold at most 107 bytes plus the terminator.
    static let maxPathBytes = 107

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment` (the process's by default).
    public init(environment: [String: String], pid: Int32 = getpid()) {
        if let p = environment["NOTIFY_SOCKET"], !p.isEmpty, p.utf8.count <= Self.maxPathBytes,
            p.hasPrefix("/") || p.hasPrefix("@")
        {
            socketPath = p
        } else {
            socketPath = nil
        }
        watchdogPingNanos = Self.pingInterval(
            usec: environment["WATCHDOG_USEC"], watchdogPID: environment["WATCHDOG_PID"], pid: pid)
    }

    /// `WATCHDOG_USEC / 2` in nanoseconds, or nil when unset, malformed, zero, meant for another process, or
    /// absurd (over a day).
    static func pingInterval(usec: String?, watchdogPID: String?, pid: Int32) -> UInt64? {
        guard let usec, let micros = UInt64(usec), micros > 0, micros <= 86_400_000_000 else { return nil }
        if let watchdogPID {
            guard let owner = Int32(watchdogPID), owner == pid else { return nil }
        }
        return micros * 1000 / 2
    }

    /// Sends `state` (e.g. `"READY=1"`); returns whether the datagram went out. Does nothing outside systemd.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        // Abstract addresses are not NUL-terminated: the length says where they end.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent == message.count
    }
}
