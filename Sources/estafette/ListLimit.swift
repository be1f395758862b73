import ArgumentParser

/// `--limit n` (1–1000) of the commands that list messages: the newest n, or the daemon's default.
struct ListLimit: ParsableArguments {
    @Option(help: ArgumentHelp(tr("inbox.limit"), valueName: "n"))
    var limit: Int?

    func validate() throws {
        if let limit, !(1...1000).contains(limit) {
            throw ValidationError(tr("error.limitRange"))
        }
    }
}
