// negentropy-harness: Estafette's Negentropy v1 behind the line protocol of the reference implementation's
// conformance harnesses (hoytech/negentropy test/cpp/harness.cpp, test/js/harness.js), so that the reference's
// test suite (test/fuzz.pl, test/test.pl, test/protoversion.pl) can drive it against the other implementations.
//
// stdin, one command a line:
//   item,<timestamp>,<64 hex digits>   add a record (before seal)
//   seal                               sort the records and start a session
//   initiate                           become the initiator: prints msg,<hex>
//   msg,<hex>                          a message from the peer. The initiator prints have,<hex id> and
//                                      need,<hex id> lines, then msg,<hex> or done; the responder prints msg,<hex>.
// Environment: FRAMESIZELIMIT (bytes, 0 or unset for none, else at least 4096);
//              NEGENTROPY_SPLITTING=estafette (default) or reference (the reference's splitting rules, to compare
//              traces byte for byte with test.pl's DELTA tests).
// Any error goes to stderr and ends the process with status 1, as the reference harnesses do.

import EstafetteCore

#if canImport(Glibc)
    import Glibc
#endif

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Buffered stdout, flushed after every answer (the driver waits for each line).
struct Output {
    private var buffer: [UInt8] = []

    mutating func line(_ prefix: String, _ bytes: [UInt8]) {
        buffer.append(contentsOf: prefix.utf8)
        Hex.append(bytes, to: &buffer)
        buffer.append(UInt8(ascii: "\n"))
    }

    mutating func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(UInt8(ascii: "\n"))
    }

    mutating func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                exit(1)
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.reserveCapacity(out.count + 2 * bytes.count)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
    }

    static func decode(_ text: Substring) throws -> [UInt8] {
        guard let bytes = [UInt8](hexDigits: text.utf8) else { throw HarnessError("bad hex") }
        return bytes
    }
}

func environment(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

func run() throws {
    var frameSizeLimit = 0
    if let text = environment("FRAMESIZELIMIT"), !text.isEmpty {
        guard let n = Int(text), n >= 0 else { throw HarnessError("bad FRAMESIZELIMIT \(text)") }
        frameSizeLimit = n
    }
    let splitting: NegentropySplitting
    switch environment("NEGENTROPY_SPLITTING") ?? "estafette" {
    case "estafette", "": splitting = .estafette
    case "reference": splitting = .reference
    case let other: throw HarnessError("unknown NEGENTROPY_SPLITTING \(other)")
    }

    var records: [NegentropyRecord] = []
    var session: NegentropySession?
    var initiator = false
    var out = Output()

    while let line = readLine(strippingNewline: true) {
        if line.isEmpty { continue }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        switch fields[0] {
        case "item":
            guard fields.count == 3 else { throw HarnessError("wrong number of fields: \(line)") }
            guard session == nil else { throw HarnessError("item after seal") }
            guard let timestamp = UInt64(fields[1]) else { throw HarnessError("bad timestamp: \(line)") }
            let id = try Hex.decode(fields[2])
            guard id.count == 32 else { throw HarnessError("id of \(id.count) bytes: \(line)") }
            records.append(NegentropyRecord(timestamp: timestamp, id: EnvelopeID(bytes: id)))
        case "seal":
            guard session == nil else { throw HarnessError("already sealed") }
            let storage = try NegentropyStorage(records)
            records = []
            session = try NegentropySession(storage: storage, splitting: splitting, frameSizeLimit: frameSizeLimit)
        case "initiate":
            guard var s = session else { throw HarnessError("initiate before seal") }
            let message = try s.initiate()
            session = s
            initiator = true
            try checkLimit(message, frameSizeLimit)
            out.line("msg,", message)
        case "msg":
            guard var s = session else { throw HarnessError("msg before seal") }
            let message = fields.count >= 2 ? try Hex.decode(fields[1]) : []
            if initiator {
                let r = try s.reconcile(message)
                for id in r.have { out.line("have,", id.bytes) }
                for id in r.need { out.line("need,", id.bytes) }
                if let reply = r.reply {
                    try checkLimit(reply, frameSizeLimit)
                    out.line("msg,", reply)
                } else {
                    out.line("done")
                }
            } else {
                let reply = try s.respond(to: message)
                try checkLimit(reply, frameSizeLimit)
                out.line("msg,", reply)
            }
            session = s
        default:
            throw HarnessError("unknown command: \(fields[0])")
        }
        out.flush()
    }
}

func checkLimit(_ message: [UInt8], _ limit: Int) throws {
    if limit > 0 && message.count > limit {
        throw HarnessError("frame size limit exceeded: \(message.count) > \(limit)")
    }
}

do {
    try run()
} catch {
    FileHandle2.standardError("negentropy-harness: error: \(error)\n")
    exit(1)
}

enum FileHandle2 {
    static func standardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
