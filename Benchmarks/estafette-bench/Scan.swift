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
