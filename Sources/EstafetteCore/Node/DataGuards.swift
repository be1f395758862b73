/// What a node accepts, stores and shows from the LAN, bounded per source and per author (issue 9, properties 2,
/// 8 and 13): envelope and byte budgets per LAN source address, alert order and rate per author, and the clock
/// evidence that tells a node its own clock is off. One value in `MeshNode`, consulted by `accept`.
public struct DataGuards: Sendable {
    /// The bounds. Defaults are documented in docs/security-data.md.
    public struct Settings: Sendable, Equatable {
        /// New envelopes one LAN source may have accepted per minute, refilled continuously. An honest node sends
        /// its own messages and repair bursts: 1,800 a minute (30 a second) is far above a person's rate, and a node
        /// that was away catches up with 1,800 envelopes in a minute.
        public var envelopesPerSourcePerMinute: Double = 1_800
        /// Bytes of new envelopes one LAN source may have accepted per minute: 16 MiB, 500 of the longest.
        public var bytesPerSourcePerMinute: Double = 16 * 1024 * 1024
        /// A source may spend this many seconds' worth of its budgets at once (300 envelopes, 2.7 MiB): a burst
        /// bigger than any repair round, small enough that the junk a flood gets accepted at its start does not
        /// keep the node busy while honest datagrams queue behind it.
        public var burstSeconds: Double = 10
        /// Alerts one author may have shown at once, then one more per `alertIntervalSeconds`.
        public var alertsPerAuthorBurst: Double = 10
        public var alertIntervalSeconds: Double = 60
        /// Authors whose last alert is remembered (sequence, creation time), and authors with a rate bucket.
        public var maxAuthors = 4_096

        public init() {}
    }

    public let settings: Settings
    var envelopes: SourceBudgets
    var bytes: SourceBudgets
    var authors: AlertAuthors
    var clock = ClockMonitor()
    /// Our digest keyed by each beacon sender's session (BeaconFields.swift), for `keyedDigestsOf`.
    var keyedDigests: [UInt64: EnvelopeID] = [:]
    var keyedDigestsOf = EnvelopeID.zero
    static let maxKeyedDigests = 1_024

    public init(settings: Settings = .init()) {
        self.settings = settings
        let perMinute = { (n: Double) in
            SourceBudgets.Rate(burst: max(1, n * settings.burstSeconds / 60), perSecond: n / 60)
        }
        envelopes = SourceBudgets(rate: perMinute(settings.envelopesPerSourcePerMinute))
        bytes = SourceBudgets(rate: perMinute(settings.bytesPerSourcePerMinute))
        authors = AlertAuthors(settings: settings)
    }

    /// Spends one envelope of `size` bytes from `source`'s budgets; the reason it is refused, or nil. Nothing is
    /// spent when either budget is short.
    mutating func admit(size: Int, from source: String, now: Millis) -> String? {
        guard envelopes.available(to: source, now: now) >= 1 else { return "budget_envelopes" }
        guard bytes.spend(Double(size), from: source, now: now) else { return "budget_bytes" }
        _ = envelopes.spend(1, from: source, now: now)
        return nil
    }
}
