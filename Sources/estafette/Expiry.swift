import ArgumentParser

/// A lifetime given as `--expires 90s`, `30m`, `2h` or `1d` (a plain number is seconds): `expires_in` on
/// messages.send and channels.post. The daemon checks the bounds (60 s to 7 days).
struct ExpiryOption: ExpressibleByArgument, Equatable, Sendable {
    let seconds: Int

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(argument)
        var unit = 1
        if let last = argument.last, let u = units[last] {
            unit = u
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), n > 0 else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        seconds = product
    }

    static let help: ArgumentHelp = ArgumentHelp(tr("expiry.help"), valueName: "duration")
}
