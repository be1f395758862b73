/// What a node remembers of each alert author, to judge a new alert before showing it: its sequence number and
/// creation time must move forward together (an author's `created_at` strictly increases with `seq`), one number
/// is one alert, and one author is shown at a bounded rate.
///
/// Gossip delivers out of order (a node that was away gets an author's alerts in a repair burst, in ID order), so
/// an alert with a lower number than the last one shown is in order only if it was also created earlier. Judging
/// depends on what arrived before, which differs between nodes, so an alert that fails here is still stored and
/// carried (every node's digest stays the same); it is only not shown, and counted under `drop.<reason>`.
struct AlertAuthors: Sendable {
    struct Last: Sendable, Equatable {
        var sequence: UInt64
        var createdAt: UInt64
        var id: EnvelopeID
    }

    let maxAuthors: Int
    private(set) var last: [SigningPublicKey: Last] = [:]
    var rate: SourceBudgets

    init(settings: DataGuards.Settings) {
        maxAuthors = settings.maxAuthors
        rate = SourceBudgets(
            rate: .init(burst: settings.alertsPerAuthorBurst, perSecond: 1 / settings.alertIntervalSeconds),
            maxSources: settings.maxAuthors)
    }

    /// Whether `message` (a verified alert) may be shown; the reason it may not, or nil. Records it when it is in
    /// order, shown or not.
    mutating func judge(_ message: ReceivedMessage, now: Millis) -> String? {
        let seq = message.sequence ?? 0
        if let prev = last[message.sender] {
            if seq == prev.sequence, message.id != prev.id { return "alert_seq_reused" }
            if seq < prev.sequence, message.createdAt >= prev.createdAt { return "alert_seq_backwards" }
            if seq > prev.sequence, message.createdAt <= prev.createdAt { return "alert_time_backwards" }
        }
        if seq >= last[message.sender]?.sequence ?? 0 {
            remember(message.sender, Last(sequence: seq, createdAt: message.createdAt, id: message.id))
        }
        let key = message.sender.bytes.hexString
        guard rate.spend(1, from: key, now: now) else { return "alert_rate" }
        return nil
    }

    /// This node's own last alert, found in the store at start-up.
    mutating func recordOwn(sequence: UInt64, createdAt: UInt64, author: SigningPublicKey) {
        guard sequence > 0, sequence >= last[author]?.sequence ?? 0 else { return }
        remember(author, Last(sequence: sequence, createdAt: createdAt, id: .zero))
    }

    private mutating func remember(_ author: SigningPublicKey, _ entry: Last) {
        if last[author] == nil, last.count >= maxAuthors,
            let oldest = last.min(by: { $0.value.createdAt < $1.value.createdAt })?.key
        {
            last[oldest] = nil
        }
        last[author] = entry
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
