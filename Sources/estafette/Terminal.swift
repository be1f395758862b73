#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Colour and emphasis for people at a terminal; plain text for pipes, files, `NO_COLOR` and `TERM=dumb`.
struct Style: Sendable, Equatable {
    var colour: Bool

    static let plain = Style(colour: false)
    static let coloured = Style(colour: true)

    /// Colour when the stream is a terminal, `NO_COLOR` is not set (to any value, even empty: no-color.org asks
    /// for "present and not empty"; an empty `NO_COLOR=` in a script means the same wish) and `TERM` is not
    /// `dumb`.
    static func decide(isTerminal: Bool, environment: (String) -> String?) -> Style {
        guard isTerminal, environment("NO_COLOR") == nil, environment("TERM") != "dumb" else { return .plain }
        return .coloured
    }

    static func forDescriptor(_ fd: Int32) -> Style {
        decide(isTerminal: isatty(fd) == 1) { getenv($0).map { String(cString: $0) } }
    }

    /// The style for standard output: this process's, unless a test sets another for a task.
    @TaskLocal static var out: Style = forDescriptor(1)
    /// The style for standard error (error messages).
    @TaskLocal static var err: Style = forDescriptor(2)

    private func sgr(_ code: String, _ text: String) -> String {
        colour && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func bold(_ t: String) -> String { sgr("1", t) }
    func dim(_ t: String) -> String { sgr("2", t) }
    func red(_ t: String) -> String { sgr("31", t) }
    func green(_ t: String) -> String { sgr("32", t) }
    func yellow(_ t: String) -> String { sgr("33", t) }
    func cyan(_ t: String) -> String { sgr("36", t) }
    /// A table's header row.
    func header(_ t: String) -> String { sgr("1;4", t) }
    /// The `estafette:` before an error.
    func error(_ t: String) -> String { sgr("1;31", t) }
    /// A command to type.
    func command(_ t: String) -> String { sgr("36", t) }
}

/// How many columns `text` takes: its characters, leaving out the SGR escapes `Style` adds (text from the network
/// has none: `sanitized` replaced every ESC).
func visibleWidth(_ text: String) -> Int {
    var n = 0
    var inEscape = false
    for ch in text.unicodeScalars {
        if inEscape {
            if ch == "m" { inEscape = false }
        } else if ch == "\u{1B}" {
            inEscape = true
        } else if ch.properties.generalCategory != .nonspacingMark {
            n += 1
        }
    }
    return n
}

/// `then` relative to `now`, for people: "just now", "3 min ago", "2 h ago", "3 days ago"; the local date and
/// time past a week, or for a time more than a minute ahead (a sender's clock may be wrong).
func relativeTime(_ then: Int64, now: Int64) -> String {
    let age = now - then
    switch age {
    case ..<(-60): return localTime(then)
    case ..<60: return tr("time.now")
    case ..<3_600: return tr("time.minutes", String(age / 60))
    case ..<86_400: return tr("time.hours", String(age / 3_600))
    case ..<(7 * 86_400): return trn("time.days", Int(age / 86_400))
    default: return localTime(then)
    }
}
