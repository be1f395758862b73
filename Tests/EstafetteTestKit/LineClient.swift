import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking connection to the daemon's Unix socket, speaking one JSON object per line.
///
/// Plain POSIX sockets and threads rather than NIO: the benchmark controls exactly when each line is written
/// (pipelining, open-loop schedules) and one reader thread per connection timestamps each line as it arrives.
/// Blocking: from async code, use it on a thread of its own (`onOwnThread`).
/// One thread may write while another reads; two threads must not read (or write) at once.
public final class LineClient: @unchecked Sendable {
    public let path: String
    public private(set) var fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    public init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw KitError("socket(): \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close()  // and forget the number: deinit runs for a thrown init and must not close it again
            throw KitError("socket path too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = String(cString: strerror(errno))
            close()  // and forget the number: deinit runs for a thrown init and must not close it again
            throw KitError("cannot connect to \(path): \(e)")
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// Writes all of `bytes` (blocking).
    public func write(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { p in
                send(fd, p.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw KitError("write to \(path) failed: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    public func writeLine(_ line: String) throws {
        var b = Array(line.utf8)
        b.append(0x0A)
        try write(b)
    }

    /// The next line without its terminator; nil at end of stream. Throws after `timeout` seconds of silence.
    public func readLine(timeout: Double) throws -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                if start > 1 << 16, start * 2 > buffer.count {
                    buffer.removeFirst(start)
                    start = 0
                }
                return line
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = timeout.isInfinite ? -1 : Int32(min(timeout * 1000, Double(Int32.max)))
            let pr = poll(&pfd, 1, ms)
            if pr < 0 {
                if errno == EINTR { continue }
                throw KitError("poll on \(path) failed: \(String(cString: strerror(errno)))")
            }
            if pr == 0 { throw ReadTimeout(path: path, seconds: timeout) }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw KitError("read from \(path) failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return nil }
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    // MARK: - Simple calls (set-up and status; not on the measured path)

    private var nextID = 1_000_000_000

    /// One request, waiting for its response; notifications in between are skipped. Returns `result`.
    public func call(_ method: String, _ params: [String: Any] = [:], timeout: Double = 30) throws -> Any {
        let id = nextID
        nextID += 1
        let req: [String: Any] = ["jsonrpc": "2.0", "id": id, "method": method, "params": params]
        let data = try JSONSerialization.data(withJSONObject: req)
        try writeLine(String(decoding: data, as: UTF8.self))
        let deadline = monoNanos() + UInt64(timeout * 1e9)
        while true {
            let left = Double(Int64(deadline) - Int64(monoNanos())) / 1e9
            guard left > 0 else { throw KitError("\(method): no answer within \(Int(timeout.rounded())) s") }
            guard let line = try readLine(timeout: left) else {
                throw KitError("\(method): the daemon closed the connection")
            }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw KitError("\(method): not a JSON object: \(String(decoding: line, as: UTF8.self))")
            }
            if obj["method"] != nil { continue }  // a notification
            guard (obj["id"] as? NSNumber)?.intValue == id else { continue }
            if let e = obj["error"] as? [String: Any] {
                throw KitError("\(method) failed: \(e["message"] ?? "?") (error \(e["code"] ?? "?"))")
            }
            return obj["result"] ?? NSNull()
        }
    }

    public func callObject(_ method: String, _ params: [String: Any] = [:], timeout: Double = 30) throws -> [String:
        Any]
    {
        guard let r = try call(method, params, timeout: timeout) as? [String: Any] else {
            throw KitError("\(method): result is not an object")
        }
        return r
    }
}

/// Nothing arrived on a connection within the time allowed.
public struct ReadTimeout: Error, CustomStringConvertible {
    public let path: String
    public let seconds: Double
    public var description: String { "no answer from \(path) within \(String(format: "%.1f", seconds)) s" }
}
