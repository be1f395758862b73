#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The CLI's words in one language: every message, help text and error, by key.
///
/// English (`en.swift`) is the reference: every key exists there, and a key missing from another catalog falls
/// back to English. A text takes its arguments as `{1}`, `{2}`, …; a text that depends on a number has two keys,
/// `KEY.one` and `KEY.other`, and the catalog's `plural` rule picks one. Adding a language is one file defining
/// a `Catalog` and one line in `Catalog.all` (docs/translating.md).
struct Catalog: Sendable {
    /// The language part of a locale name: `fr` in `fr_FR.UTF-8`.
    let code: String
    /// The language's own name.
    let name: String
    /// Whether `n` takes the `.one` or the `.other` form.
    let plural: @Sendable (Int) -> PluralForm
    let strings: [String: String]

    enum PluralForm: String, Sendable {
        case one, other
    }

    /// Every language the CLI speaks; the first is the fallback.
    static let all: [Catalog] = [.english, .french]

    /// The catalog for `code` (`fr`), or nil.
    static func named(_ code: String) -> Catalog? { all.first { $0.code == code } }

    /// The language the environment asks for, as on Linux: the first non-empty of `LC_ALL`, `LC_MESSAGES` and
    /// `LANG` decides; `C` and `POSIX` (and their `C.UTF-8` forms) are English; a language without a catalog
    /// falls back to English.
    static func select(environment: (String) -> String?) -> Catalog {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let locale = environment(name), !locale.isEmpty {
                return named(languageCode(locale) ?? "en") ?? .english
            }
        }
        return .english
    }

    /// `fr` for `fr_FR.UTF-8@euro`, `fr` or `FR`; nil for `C`, `POSIX` and `C.UTF-8`.
    static func languageCode(_ locale: String) -> String? {
        let language = locale.prefix { $0 != "_" && $0 != "." && $0 != "@" }.lowercased()
        if language.isEmpty || language == "c" || language == "posix" { return nil }
        return language
    }

    /// The catalog of this process's environment.
    static let fromEnvironment: Catalog = select { name in getenv(name).map { String(cString: $0) } }

    /// The catalog in use: this process's, unless a test sets another for a task.
    @TaskLocal static var current: Catalog = fromEnvironment

    /// The text for `key` with `{1}`, `{2}`, … replaced by `args`; English when this catalog lacks the key, and
    /// the key itself when English lacks it too (a bug that a test catches).
    func text(_ key: String, _ args: [String]) -> String {
        let template = strings[key] ?? Catalog.english.strings[key] ?? key
        guard !args.isEmpty, template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let n = Int(after[..<close]), n >= 1, n <= args.count {
                out += args[n - 1]
                rest = after[after.index(after: close)...]
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
    }
}

/// The current language's text for `key`, with `{1}`, `{2}`, … replaced by `args`.
func tr(_ key: String, _ args: String...) -> String {
    Catalog.current.text(key, args)
}

/// The `.one` or `.other` form of `key` for `count`; `{1}` is the count, `{2}`, … the other arguments.
func trn(_ key: String, _ count: Int, _ args: String...) -> String {
    let catalog = Catalog.current
    return catalog.text(key + "." + catalog.plural(count).rawValue, [String(count)] + args)
}
