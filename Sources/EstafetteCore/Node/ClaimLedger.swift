/// Which LAN sources' control claims this node still acts on.
///
/// Suppression keeps repair cheap: a node defers its inventory to one it hears first, its wants to wants it hears,
/// its burst to a better node's. Every one of those is a claim anyone on the LAN can forge, so each deferral is
/// checked against what arrives afterwards: a node that claimed to hold more must send its inventory, a want that
/// stood in for ours must bring the envelopes, a coded packet must solve to the envelopes it names. A source (its
/// address: ``PeerAddress/source``, which a forger cannot choose freely, never the session) whose claim failed is
/// distrusted for `distrustMillis`: its packets no longer defer anything, so the node goes ahead by itself. A
/// deferral therefore costs a forger one failed check per address, and an honest node that failed by bad luck only
/// some redundant traffic.
///
/// Bounded: at most `maxSources` distrusted sources are remembered; when that table is full of unexpired
/// entries, every source not in it is treated as distrusted too (fail safe: the node stops deferring, it never
/// stops repairing).
struct ClaimLedger: Sendable {
    var maxSources = 256
    var distrustMillis: Millis = 60_000
    /// Most sources remembered as having deferred our pending work.
    static let maxDeferrers = 64
    private(set) var distrusted: [String: Millis] = [:]
    /// Sources whose packets deferred our inventory since it became due; distrusted if it is still due after
    /// the deferral's bound.
    private(set) var deferrers: Set<String> = []

    func trusts(_ source: String, now: Millis) -> Bool {
        if let until = distrusted[source] { return now >= until }
        return distrusted.count < maxSources
    }

    /// `source`'s claim failed: ignore its claims for a while.
    mutating func distrust(_ source: String, now: Millis) {
        if distrusted[source] == nil, distrusted.count >= maxSources {
            distrusted = distrusted.filter { $0.value > now }
        }
        guard distrusted[source] != nil || distrusted.count < maxSources else { return }
        distrusted[source] = now + distrustMillis
    }

    /// `source` deferred our pending inventory.
    mutating func deferred(by source: String) {
        guard deferrers.count < Self.maxDeferrers else { return }
        deferrers.insert(source)
    }

    /// The deferral ran out with our inventory still due: every source that deferred it failed its claim.
    /// Returns how many sources were distrusted.
    mutating func deferralFailed(now: Millis) -> Int {
        let failed = deferrers
        deferrers = []
        for s in failed { distrust(s, now: now) }
        return failed.count
    }

    /// Our inventory went out (or nothing is due any more): the deferrals so far are settled.
    mutating func settle() { deferrers = [] }

    /// Forgets expired distrust.
    mutating func prune(now: Millis) {
        distrusted = distrusted.filter { $0.value > now }
    }

    var distrustedCount: Int { distrusted.count }
}
