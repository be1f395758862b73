import EstafetteAPI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes text from the network safe for a terminal: CRLF becomes LF, and control characters other than
/// newline and tab (escape sequences among them) become U+FFFD.
func sanitized(_ text: String) -> String {
    var out = String.UnicodeScalarView()
    let scalars = Array(text.unicodeScalars)
    for (i, scalar) in scalars.enumerated() {
        switch scalar.value {
        case 0x0A, 0x09: out.append(scalar)
        case 0x0D where i + 1 < scalars.count && scalars[i + 1] == "\n": continue
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
            out.append("\u{FFFD}")
        default: out.append(scalar)
        }
    }
    return String(out)
}

/// Collapses line breaks, for one-line messages.
func oneLine(_ text: String) -> String {
    sanitized(text).split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// Unix seconds as local `YYYY-MM-DD HH:MM`.
func localTime(_ seconds: Int64) -> String {
    var t = time_t(seconds)
    var parts = tm()
    guard localtime_r(&t, &parts) != nil else { return String(seconds) }
    var buf = [CChar](repeating: 0, count: 32)
    let n = strftime(&buf, buf.count, "%Y-%m-%d %H:%M", &parts)
    guard n > 0 else { return String(seconds) }
    return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The current time in Unix seconds.
func nowSeconds() -> Int64 {
    Int64(time(nil))
}

/// `3d 4h 5m 6s`, leaving out leading zero units.
func duration(_ seconds: Int) -> String {
    let s = max(0, seconds)
    let units = [
        (s / 86_400, tr("unit.d")), (s / 3_600 % 24, tr("unit.h")), (s / 60 % 60, tr("unit.m")), (s % 60, tr("unit.s")),
    ]
    let shown = units.drop { $0.0 == 0 }.map { "\($0.0)\($0.1)" }
    return shown.isEmpty ? "0" + tr("unit.s") : shown.joined(separator: " ")
}

/// Rows with columns padded to a common width; the last column is not padded. With `header`, a first row of
/// column names, underlined on a terminal. Widths count what is seen (`visibleWidth`), not colour escapes.
func table(_ rows: [[String]], header: [String]? = nil, gap: String = "  ", style: Style = Style.out) -> [String] {
    let all = (header.map { [$0] } ?? []) + rows
    guard let columns = all.map(\.count).max(), columns > 0 else { return [] }
    var widths = [Int](repeating: 0, count: columns)
    for row in all {
        for (i, cell) in row.enumerated() { widths[i] = max(widths[i], visibleWidth(cell)) }
    }
    func line(_ row: [String], _ paint: (String) -> String) -> String {
        row.enumerated().map { i, cell in
            let painted = paint(cell)
            return i == row.count - 1
                ? painted : painted + String(repeating: " ", count: widths[i] - visibleWidth(cell))
        }.joined(separator: gap)
    }
    let body = rows.map { line($0, { $0 }) }
    guard let header else { return body }
    return [line(header, style.header)] + body
}

/// How the CLI names a sender who is not a contact: `es1` and the first 12 and last 4 characters of the ID.
/// Those 16 base32 characters carry 78 bits (60 of the key, 18 of its checksum: the last character holds 3), so a
/// vanity key made to look like a known ID at both ends takes about 2⁷⁸ key generations, where the 8 characters
/// shown before (4 and 4, 38 bits) took 2³⁸: hours on one GPU. See docs/security-data.md.
func senderID(_ id: String) -> String {
    guard id.count > 20 else { return id }
    return "\(id.prefix(15))…\(id.suffix(4))"
}

/// One inbox message for people: a header line (when, kind, channel, sender, whether the sender is verified, for
/// alerts whether its author is followed, unread marker), then the text indented. A sender who is not a contact is
/// shown by `senderID`. Times are relative ("3 min ago") by default.
func render(
    _ item: InboxItem, time: (Int64) -> String = { relativeTime($0, now: nowSeconds()) }, style: Style = Style.out
) -> String {
    let sender = item.from_name.map(sanitized) ?? senderID(sanitized(item.from))
    let kinds = ["direct": "kind.direct", "alert": "kind.alert", "channel": "kind.channel"]
    var header = [style.dim(time(item.created_at)), kinds[item.kind].map { tr($0) } ?? sanitized(item.kind)]
    if let channel = item.channel { header.append(style.cyan("#" + sanitized(channel))) }
    header.append(style.bold(sender))
    if item.sender == "verified" { header.append(style.green(tr("inbox.verified"))) }
    if item.kind == "alert" {
        header.append(item.followed == true ? tr("inbox.followed") : style.yellow(tr("inbox.notFollowed")))
    }
    if !item.read { header.append(style.cyan(tr("inbox.unread"))) }
    let body = sanitized(item.text).split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.isEmpty ? "" : "    " + $0 }
    return ([header.joined(separator: "  ")] + body).joined(separator: "\n")
}
