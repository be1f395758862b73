import ArgumentParser
import EstafetteAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Calling the daemon

/// A result as the daemon sent it (for `--json`) and decoded (for people).
struct Reply<Value: Decodable & Sendable>: Sendable {
    var raw: JSONValue
    var value: Value
}

extension RPCConnection {
    /// Calls `method` and keeps the result both raw and decoded as `R`, so `--json` shows every field the
    /// daemon sent, including fields newer than this client.
    func fetch<P: Encodable & Sendable, R: Decodable & Sendable>(
        _ method: String, _ params: P, as: R.Type,
        onNotification: (String, JSONValue) -> Void = { _, _ in }
    ) async throws -> Reply<R> {
        let raw = try await call(method, params, as: JSONValue.self, onNotification: onNotification)
        return Reply(raw: raw, value: try decodeResult(raw, of: method, as: R.self))
    }
}

extension RPCClient {
    /// One call on a fresh connection; see `RPCConnection.fetch`.
    func fetch<P: Encodable & Sendable, R: Decodable & Sendable>(
        _ method: String, _ params: P, as: R.Type
    ) async throws -> Reply<R> {
        try await withConnection { conn in try await conn.fetch(method, params, as: R.self) }
    }
}

/// Decodes a result or notification payload, reporting a shape mismatch as a bad response.
func decodeResult<R: Decodable>(_ raw: JSONValue, of method: String, as: R.Type) throws -> R {
    do {
        return try raw.decode(R.self)
    } catch {
        throw RPCClientError.badResponse(tr("error.unexpectedShape", method) + ": \(error)")
    }
}

extension GlobalOptions {
    /// Prints the raw result as one JSON line with `--json`, else `human(value)`.
    func output<R>(_ reply: Reply<R>, human: (R) -> String) throws {
        if json {
            writeOut(try jsonLine(reply.raw))
        } else {
            writeOut(human(reply.value))
        }
    }
}

// MARK: - Output

/// One line of JSON: sorted keys, no pretty printing.
func jsonLine(_ value: JSONValue) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Prints `text` and a newline on stdout.
func writeOut(_ text: String) {
    print(text)
}

/// Pushes buffered stdout to its reader now (a pipe is otherwise block-buffered).
func flushOut() {
    fflush(nil)
}

/// Writes `text` and a newline straight to stderr.
func writeErr(_ text: String) {
    let line = text + "\n"
    var bytes = Array(line.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n > 0 {
            bytes = bytes.dropFirst(n)
        } else if n < 0, errno == EINTR {
            continue
        } else {
            return
        }
    }
}

// MARK: - Errors

/// A failure on the client side, with a message for people.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The exit status for a failed command: 3 when the daemon cannot be reached, else 1.
func exitStatus(for error: any Error) -> Int32 {
    if let e = error as? RPCClientError, case .daemonNotRunning = e { return 3 }
    return 1
}

/// The one-line message printed after `estafette: `.
func errorMessage(for error: any Error) -> String {
    let text: String
    switch error as? RPCClientError {
    case .remote(let e)?:
        // The daemon's message is English (the API is language-neutral); a catalog may wrap it by its code.
        let key = "rpc.\(e.code)"
        text = Catalog.english.strings[key] != nil ? tr(key, e.message) : e.message
    case .daemonNotRunning(let path, let reason)?: text = tr("error.daemonNotRunning", path, reason)
    case .connectionClosed?: text = tr("error.connectionClosed")
    case .badResponse(let s)?: text = tr("error.badResponse", s)
    case nil: text = String(describing: error)
    }
    return oneLine(text)
}

/// `estafette: message` for stderr, the prefix in red on a terminal.
func errorLine(_ message: String, style: Style = Style.err) -> String {
    style.error(tr("error.prefix")) + " " + message
}

/// Runs a command's body; any error becomes `estafette: <message>` on stderr and an exit code, so that
/// nothing escapes `main`.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        writeErr(errorLine(errorMessage(for: error)))
        throw ExitCode(exitStatus(for: error))
    }
}
