import CQRencode

/// A QR code from Debian's libqrencode, drawn in the terminal with Unicode half blocks: each text line holds two
/// rows of modules.
struct QRCode {
    /// Modules, row by row; true is dark.
    let modules: [[Bool]]
    /// Light modules around the code, as the standard asks (4).
    static let quietZone = 4

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Byte mode, error correction level M (15 % of the code may be damaged or dirty), the smallest version that
    /// fits.
    init(encoding text: String) throws {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else {
            throw Failure(description: tr("error.qrTooLong"))
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        guard width > 0, width <= 177, let data = code.pointee.data else {
            throw Failure(description: "libqrencode returned a code of width \(width)")
        }
        // Bit 0 of each byte: 1 is a dark module.
        modules = (0..<width).map { y in (0..<width).map { x in data[y * width + x] & 1 == 1 } }
    }

    init(modules: [[Bool]]) { self.modules = modules }

    /// The code with its quiet zone, as text lines.
    ///
    /// `darkBackground` (the default, as most terminals): a light module is drawn (a block in the foreground
    /// colour, light on a dark terminal) and a dark module is left blank. With a light background, the other way
    /// round.
    func terminalLines(darkBackground: Bool = true) -> [String] {
        let size = modules.count + 2 * Self.quietZone
        func dark(_ x: Int, _ y: Int) -> Bool {
            let (mx, my) = (x - Self.quietZone, y - Self.quietZone)
            guard my >= 0, my < modules.count, mx >= 0, mx < modules.count else { return false }
            return modules[my][mx]
        }
        var lines: [String] = []
        for y in stride(from: 0, to: size, by: 2) {
            var line = ""
            for x in 0..<size {
                // Which half of the cell gets ink: the light modules on a dark terminal, the dark ones on a light.
                let top = dark(x, y) != darkBackground
                let bottom = y + 1 < size ? dark(x, y + 1) != darkBackground : false
                let cell: Character =
                    switch (top, bottom) {
                    case (true, true): "█"
                    case (true, false): "▀"
                    case (false, true): "▄"
                    case (false, false): " "
                    }
                line.append(cell)
            }
            lines.append(line)
        }
        return lines
    }

    /// The modules a terminal shows for `lines` (from `terminalLines`, quiet zone included): the inverse of
    /// drawing, for tests and for checking what is printed. Nil for a character that is no half block.
    static func modules(fromTerminal lines: [String], darkBackground: Bool = true) -> [[Bool]]? {
        var rows: [[Bool]] = []
        for line in lines {
            var top: [Bool] = []
            var bottom: [Bool] = []
            for c in line {
                let ink: (Bool, Bool)
                switch c {
                case "█": ink = (true, true)
                case "▀": ink = (true, false)
                case "▄": ink = (false, true)
                case " ": ink = (false, false)
                default: return nil
                }
                top.append(ink.0 != darkBackground)
                bottom.append(ink.1 != darkBackground)
            }
            rows.append(top)
            rows.append(bottom)
        }
        // An odd number of rows: the last line's bottom half is the terminal's background, not a module.
        if let first = rows.first, rows.count == first.count + 1 { rows.removeLast() }
        return rows
    }

    /// A plain PBM (P1) image of `rows` (true is black), each module `scale` pixels square.
    static func pbm(_ rows: [[Bool]], scale: Int = 4) -> String {
        let width = (rows.first?.count ?? 0) * scale
        var out = "P1\n\(width) \(rows.count * scale)\n"
        for row in rows {
            let line = row.flatMap { Array(repeating: $0 ? "1" : "0", count: scale) }.joined(separator: " ")
            for _ in 0..<scale { out += line + "\n" }
        }
        return out
    }
}
