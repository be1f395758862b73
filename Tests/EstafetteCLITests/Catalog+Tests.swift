import EstafetteAPI
import Foundation
import Testing

@testable import estafette

/// The CLI in the user's language: which catalog the environment picks, and that every catalog is complete.
@Suite struct CatalogTests {
    static func pick(_ env: [String: String]) -> String { Catalog.select { env[$0] }.code }

    @Test("LC_ALL, then LC_MESSAGES, then LANG: the first non-empty one decides, as on Linux")
    func selectionOrder() {
        #expect(Self.pick([:]) == "en")
        #expect(Self.pick(["LANG": "fr_FR.UTF-8"]) == "fr")
        #expect(Self.pick(["LANG": "fr_FR.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"]) == "en")
        #expect(Self.pick(["LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_BE.UTF-8"]) == "fr")
        #expect(Self.pick(["LANG": "en_US.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LC_ALL": "fr_CA.UTF-8@x"]) == "fr")
        #expect(Self.pick(["LANG": "fr_FR.UTF-8", "LC_ALL": "C"]) == "en", "C is English, and it decides")
        #expect(Self.pick(["LANG": "fr_FR.UTF-8", "LC_ALL": "C.UTF-8"]) == "en")
        #expect(Self.pick(["LANG": "fr_FR.UTF-8", "LC_MESSAGES": "POSIX"]) == "en")
        #expect(Self.pick(["LANG": "fr_FR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""]) == "fr", "empty is skipped")
        #expect(Self.pick(["LANG": "fr"]) == "fr")
        #expect(Self.pick(["LANG": "FR_fr"]) == "fr")
        #expect(Self.pick(["LANG": "de_DE.UTF-8"]) == "en", "no German catalog: English")
        #expect(Self.pick(["LC_ALL": "de_DE.UTF-8", "LANG": "fr_FR.UTF-8"]) == "en", "LC_ALL decides, even unknown")
    }

    /// The `{n}` placeholders of a text.
    static func placeholders(_ text: String) -> Set<String> {
        var found: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            if Int(after[..<close]) != nil { found.insert(String(after[..<close])) }
            rest = after[after.index(after: close)...]
        }
        return found
    }

    @Test("every catalog translates every English key, with the same placeholders, and no key English lacks")
    func catalogsAreComplete() {
        let english = Catalog.english.strings
        for catalog in Catalog.all where catalog.code != "en" {
            for (key, text) in english.sorted(by: { $0.key < $1.key }) {
                guard let translated = catalog.strings[key] else {
                    Issue.record("\(catalog.code) lacks \(key)")
                    continue
                }
                #expect(
                    Self.placeholders(translated) == Self.placeholders(text), "\(catalog.code) \(key): \(translated)")
                #expect(!translated.isEmpty, "\(catalog.code) \(key) is empty")
            }
            for key in catalog.strings.keys where english[key] == nil {
                Issue.record("\(catalog.code) has \(key), which English lacks (a typo?)")
            }
        }
        #expect(Set(Catalog.all.map(\.code)).count == Catalog.all.count, "one catalog per language")
        #expect(Catalog.all.first?.code == "en", "English first: the fallback")
    }

    @Test("every key the CLI's sources ask for exists in English")
    func sourcesUseOnlyKnownKeys() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/estafette").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        let pattern = try NSRegularExpression(pattern: #"\b(trn?)\("([A-Za-z0-9.\-]+)""#)
        var used = 0
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let function = String(text[Range(m.range(at: 1), in: text)!])
                let key = String(text[Range(m.range(at: 2), in: text)!])
                let keys = function == "trn" ? [key + ".one", key + ".other"] : [key]
                for k in keys {
                    #expect(Catalog.english.strings[k] != nil, "\(file) uses \(k), missing from en.swift")
                }
                used += 1
            }
        }
        #expect(used > 100)
    }

    @Test("no help text, error or message is an English literal in the sources: each goes through a catalog")
    func noUntranslatedLiterals() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/estafette").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        let literal = try NSRegularExpression(
            pattern: #"(abstract|discussion|help): *"|ArgumentHelp\(\s*"|(CLIError|ValidationError|writeErr|writeOut)\(\s*""#)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for m in literal.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let line = text[..<Range(m.range, in: text)!.lowerBound].filter { $0 == "\n" }.count + 1
                Issue.record("\(file):\(line): a literal text; give it a key in Catalogs/en.swift and fr.swift")
            }
        }
    }

    @Test func placeholdersAreReplaced() {
        let c = Catalog.english
        #expect(
            c.text("contacts.relayHint", ["r:1"]) == "Relay hint: r:1 (to use it: estafette relays add r:1 RELAY-ID)")
        #expect(c.text("import.done", ["1", "2", "3"]) == "Imported 1, already held 2, refused 3.")
        #expect(c.text("no.such.key", []) == "no.such.key")
        #expect(Catalog.french.text("inbox.none", []) == "Aucun message.")
    }

    @Test("plural forms: English 1 is singular; French 0 and 1 are")
    func plurals() {
        Catalog.$current.withValue(.english) {
            #expect(trn("time.days", 1) == "1 day ago")
            #expect(trn("time.days", 0) == "0 days ago")
        }
        Catalog.$current.withValue(.french) {
            #expect(trn("time.days", 1) == "il y a 1 jour")
            #expect(trn("time.days", 0) == "il y a 0 jour")
            #expect(trn("time.days", 3) == "il y a 3 jours")
        }
    }

    @Test func relativeTimes() {
        let now: Int64 = 1_800_000_000
        Catalog.$current.withValue(.english) {
            #expect(relativeTime(now - 5, now: now) == "just now")
            #expect(relativeTime(now - 180, now: now) == "3 min ago")
            #expect(relativeTime(now - 2 * 3600 - 5, now: now) == "2 h ago")
            #expect(relativeTime(now - 86_400, now: now) == "1 day ago")
            #expect(relativeTime(now - 3 * 86_400, now: now) == "3 days ago")
            #expect(relativeTime(now - 8 * 86_400, now: now) == localTime(now - 8 * 86_400), "past a week: the date")
            #expect(relativeTime(now + 3600, now: now) == localTime(now + 3600), "ahead: the date")
            #expect(relativeTime(now + 30, now: now) == "just now")
        }
        Catalog.$current.withValue(.french) {
            #expect(relativeTime(now - 5, now: now) == "à l'instant")
            #expect(relativeTime(now - 180, now: now) == "il y a 3 min")
            #expect(relativeTime(now - 2 * 3600, now: now) == "il y a 2 h")
            #expect(relativeTime(now - 3 * 86_400, now: now) == "il y a 3 jours")
        }
    }

    @Test("a daemon error is shown as the daemon wrote it in English, wrapped by its code in French")
    func daemonErrorsByCode() {
        let error = RPCClientError.remote(
            RPCErrorObject(code: RPC.ErrorCode.unknownContact, message: "no contact named 'x'"))
        Catalog.$current.withValue(.english) {
            #expect(errorMessage(for: error) == "no contact named 'x'")
        }
        Catalog.$current.withValue(.french) {
            #expect(errorMessage(for: error) == "contact inconnu (estafetted : no contact named 'x')")
            let unknownCode = RPCClientError.remote(RPCErrorObject(code: -31999, message: "new failure"))
            #expect(errorMessage(for: unknownCode) == "new failure", "a code no catalog knows: the daemon's words")
            let down = RPCClientError.daemonNotRunning(path: "/x.sock", reason: "No such file or directory")
            #expect(errorMessage(for: down).hasPrefix("impossible de joindre estafetted à /x.sock"))
        }
    }
}
