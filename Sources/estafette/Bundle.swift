import ArgumentParser
import EstafetteAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Estafette {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("export.abstract"), discussion: tr("export.discussion"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("export.file")))
        var file: String

        @Option(
            help: ArgumentHelp(tr("export.since"), valueName: "time"))
        var since: String?

        func validate() throws {
            if let since, parseSince(since, now: nowSeconds()) == nil {
                throw ValidationError(tr("error.since", since))
            }
        }

        func run() async throws {
            try await reportingErrors {
                let params = StoreExportParams(
                    path: absolutePath(file), since: since.flatMap { parseSince($0, now: nowSeconds()) })
                let reply = try await options.client.fetch(RPC.Method.storeExport, params, as: StoreExported.self)
                try options.output(reply) {
                    trn("export.done", $0.envelopes, String($0.bytes), sanitized(params.path))
                }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("import.abstract"), discussion: tr("import.discussion"))

        @OptionGroup var options: GlobalOptions

        @Argument(help: ArgumentHelp(tr("import.file")))
        var file: String

        func run() async throws {
            try await reportingErrors {
                let reply = try await options.client.fetch(
                    RPC.Method.storeImport, StoreImportParams(path: absolutePath(file)), as: StoreImported.self)
                try options.output(reply) {
                    tr("import.done", String($0.imported), String($0.duplicates), String($0.refused))
                }
            }
        }
    }
}

/// `path` made absolute against this process's working directory (the daemon has another).
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    let cwd = FileManager.default.currentDirectoryPath
    return (cwd.hasSuffix("/") ? cwd : cwd + "/") + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
}

/// Unix seconds from `--since`: Unix seconds, `YYYY-MM-DDTHH:MM:SSZ`, or an age (`90m`, `6h`, `2d`, `45s`).
func parseSince(_ text: String, now: Int64) -> Int64? {
    if let s = Int64(text), s >= 0 { return s }
    if let unit = text.last, let n = Int64(text.dropLast()), n >= 0, n <= 10_000_000 {
        switch unit {
        case "s": return now - n
        case "m": return now - n * 60
        case "h": return now - n * 3600
        case "d": return now - n * 86400
        default: break
        }
    }
    // YYYY-MM-DDTHH:MM:SSZ (UTC).
    let b = Array(text.utf8)
    guard b.count == 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x5A else {
        return nil
    }
    func num(_ r: Range<Int>) -> Int64? { Int64(String(decoding: b[r], as: UTF8.self)) }
    guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
        let s = num(17..<19), (1970...9999).contains(y), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60,
        s < 61
    else { return nil }
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = mo <= 2 ? y - 1 : y
    let era = yy / 400
    let yoe = yy - era * 400
    let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    return days * 86400 + h * 3600 + mi * 60 + s
}
