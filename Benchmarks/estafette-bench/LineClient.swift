import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking connection to the daemon's Unix socket, speaking one JSON object per line.
///
/// Plain POSIX sockets and threads rather than NIO: the benchmark controls exactly when each line is written
/// (pipelining, open-loop schedules) and one reader thread per connection timestamps each line as it arrives.
/// One thread may write while another reads; two threads must not read (or write) at once.
final class LineClient: @unchecked Sendable {
    let path: String
    private(set) var fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket(): \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            Glibc.close(fd)
            throw BenchError("socket path too long (\(bytes.count) bytes): \(path)")
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
            Glibc.close(fd)
            throw BenchError("cannot connect to \(path): \(e)")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// Writes all of `bytes` (blocking).
    func write(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { p in
                send(fd, p.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError("write to \(path) failed: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    func writeLine(_ line: String) throws {
        var b = Array(line.utf8)
        b.append(0x0A)
        try write(b)
    }

    /// The next line without its terminator; nil at end of stream. Throws after `timeout` seconds of silence.
    func readLine(timeout: Double) throws -> [UInt8]? {
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
                throw BenchError("poll on \(path) failed: \(String(cString: strerror(errno)))")
            }
            if pr == 0 { throw ReadTimeout(path: path, seconds: timeout) }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError("read from \(path) failed: \(String(cString: strerror(errno)))")
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
    func call(_ method: String, _ params: [String: Any] = [:], timeout: Double = 30) throws -> Any {
        let id = nextID
        nextID += 1
        let req: [String: Any] = ["jsonrpc": "2.0", "id": id, "method": method, "params": params]
        let data = try JSONSerialization.data(withJSONObject: req)
        try writeLine(String(decoding: data, as: UTF8.self))
        let deadline = monoNanos() + UInt64(timeout * 1e9)
        while true {
            let left = Double(Int64(deadline) - Int64(monoNanos())) / 1e9
            guard left > 0 else { throw BenchError("\(method): no answer within \(fmt(timeout, 0)) s") }
            guard let line = try readLine(timeout: left) else {
                throw BenchError("\(method): the daemon closed the connection")
            }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw BenchError("\(method): not a JSON object: \(String(decoding: line, as: UTF8.self))")
            }
            if obj["method"] != nil { continue }  // a notification
            guard (obj["id"] as? NSNumber)?.intValue == id else { continue }
            if let e = obj["error"] as? [String: Any] {
                throw BenchError("\(method) failed: \(e["message"] ?? "?") (error \(e["code"] ?? "?"))")
            }
            return obj["result"] ?? NSNull()
        }
    }

    func callObject(_ method: String, _ params: [String: Any] = [:], timeout: Double = 30) throws -> [String: Any] {
        guard let r = try call(method, params, timeout: timeout) as? [String: Any] else {
            throw BenchError("\(method): result is not an object")
        }
        return r
    }
}

/// Nothing arrived on a connection within the time allowed.
struct ReadTimeout: Error, CustomStringConvertible {
    let path: String
    let seconds: Double
    var description: String { "no answer from \(path) within \(fmt(seconds, 1)) s" }
}

// MARK: - Minimal field extraction for the hot path

/// The daemon writes compact JSON with sorted keys. On the measured path the benchmark only needs a response's
/// `id`, whether it is an error, and a `message_id`; scanning for them keeps the client's CPU use (which shares
/// the two cores with both daemons) far below a full JSON decode per line.
enum Scan {
    static let idKey = Array(#""id":"#.utf8)
    static let messageIDKey = Array(#""message_id":""#.utf8)
    static let errorKey = Array(#""error":"#.utf8)
    static let notificationKey = Array(#""method":"message.received""#.utf8)

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count, let first = needle.first else { return nil }
        var i = 0
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count, hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func int(after key: [UInt8], in line: [UInt8]) -> Int? {
        guard var i = find(key, in: line).map({ $0 + key.count }) else { return nil }
        var v = 0
        var any = false
        while i < line.count, line[i] >= 0x30, line[i] <= 0x39 {
            v = v * 10 + Int(line[i] - 0x30)
            any = true
            i += 1
        }
        return any ? v : nil
    }

    static func string(after key: [UInt8], in line: [UInt8]) -> String? {
        guard let s = find(key, in: line).map({ $0 + key.count }) else { return nil }
        guard let e = line[s...].firstIndex(of: 0x22) else { return nil }
        return String(decoding: line[s..<e], as: UTF8.self)
    }

    static func isNotification(_ line: [UInt8]) -> Bool { find(notificationKey, in: line) != nil }
    static func isError(_ line: [UInt8]) -> Bool { find(errorKey, in: line) != nil }
}
