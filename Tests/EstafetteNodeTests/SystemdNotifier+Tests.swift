import Testing

@testable import EstafetteNode

#if canImport(Glibc)
    import Glibc
#endif

@Suite("sd_notify") struct SystemdNotifierTests {
    @Test("the watchdog pings at half WATCHDOG_USEC, only for the process it names")
    func interval() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogPingNanos == 15_000_000_000)
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "42"], pid: 42)
                .watchdogPingNanos == 2_000_000_000)
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "41"], pid: 42)
                .watchdogPingNanos == nil)
        for bad in ["", "0", "-5", "abc", "99999999999999999999", "86400000001"] {
            #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": bad]).watchdogPingNanos == nil)
        }
        #expect(SystemdNotifier(environment: [:]).watchdogPingNanos == nil)
    }

    @Test("outside systemd nothing is sent; a relative or oversized NOTIFY_SOCKET is ignored")
    func noSocket() {
        #expect(SystemdNotifier(environment: [:]).notify("READY=1") == false)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]).socketPath == nil)
        let long = "/" + String(repeating: "x", count: 200)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": long]).socketPath == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@abstract"]).socketPath == "@abstract")
    }

    @Test("READY=1 arrives as one datagram on the socket systemd names")
    func sends() throws {
        let path = "/tmp/estafette-notify-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(rc == 0)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": path]).notify("READY=1"))
        var buf = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
        #expect(n == 7)
        #expect(String(decoding: buf.prefix(max(n, 0)), as: UTF8.self) == "READY=1")
    }
}
