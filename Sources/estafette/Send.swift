import ArgumentParser
import EstafetteAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Estafette {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("send.abstract"), discussion: tr("send.discussion"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("send.contact")))
        var contact: String

        @Argument(help: ArgumentHelp(tr("send.text")))
        var text: String?

        @Option(name: .long, help: ExpiryOption.help)
        var expires: ExpiryOption?

        func run() async throws {
            try await reportingErrors {
                let body = try text ?? readStandardInputText()
                let reply = try await options.client.fetch(
                    RPC.Method.messagesSend, MessagesSendParams(to: contact, text: body, expires_in: expires?.seconds),
                    as: MessageSent.self)
                try options.output(reply) { $0.message_id }
            }
        }
    }
}

/// All of standard input as text, without one trailing newline (`\n` or `\r\n`).
func readStandardInputText() throws -> String {
    if isatty(0) != 0 {
        writeErr(errorLine(tr("send.readingStdin")))
    }
    let bytes = try readAll(fd: 0, limit: RPC.maxLineBytes)
    guard let text = String(validating: droppingTrailingNewline(bytes), as: UTF8.self) else {
        throw CLIError(tr("error.stdinNotUTF8"))
    }
    return text
}

/// `bytes` without one trailing `\n` or `\r\n`.
func droppingTrailingNewline(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    var slice = bytes[...]
    if slice.last == UInt8(ascii: "\n") {
        slice = slice.dropLast()
        if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
    }
    return slice
}

/// Reads `fd` to its end; more than `limit` bytes is an error.
func readAll(fd: Int32, limit: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            out.append(contentsOf: chunk[..<n])
            if out.count > limit {
                throw CLIError(tr("error.stdinTooLong", String(limit), String(RPC.maxTextBytes)))
            }
        } else if n == 0 {
            return out
        } else if errno != EINTR {
            throw CLIError(tr("error.stdinRead", String(cString: strerror(errno))))
        }
    }
}
