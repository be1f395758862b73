/// Bytes a node may send in answer to each LAN source, earned by the requests that source sends and valid for a
/// short while only.
///
/// Issue 9, property 5: over any 10-second window, the bytes a node sends in answer to one source are at most 10×
/// the bytes of that source's requests. A budget that could be saved up (a token bucket with only a cap) let a
/// source earn credit with cheap requests over minutes and spend it all in one window (measured: 38×). Here each
/// deposit is a grant that lapses `lifetime` after it was earned: an answer is paid only by requests made shortly
/// before it, so a window's answers are bounded by `bytesPerByte` × the requests of that window and the
/// `lifetime` before it. Spending takes the oldest grants first. Per source at most `maxGrants` grants (deposits
/// close in time are merged), at most `maxSources` sources (a new one past that shares one overflow source), so a
/// sprayer of addresses buys one budget, never memory.
public struct AnswerCredit: Sendable {
    struct Grant: Sendable {
        var amount: Double
        var earned: Millis
    }

    /// The most a source can hold at once (the cost of the longest envelope whole, which must stay repairable).
    public let cap: Double
    /// How long a grant may be spent after it was earned.
    public let lifetime: Millis
    public let maxSources: Int
    static let maxGrants = 32
    /// Deposits closer than this to the newest grant are added to it.
    static let mergeMillis: Millis = 250

    private var grants: [String: [Grant]] = [:]
    private var overflow: [Grant] = []

    public init(cap: Double, lifetime: Millis, maxSources: Int = 256) {
        precondition(cap >= 0 && lifetime > 0 && maxSources > 0, "an answer credit needs a cap, a lifetime and room")
        self.cap = cap
        self.lifetime = lifetime
        self.maxSources = maxSources
    }

    /// The number of sources with grants of their own.
    public var trackedSources: Int { grants.count }

    /// Adds `amount` to what `source` may be answered with, until `lifetime` from `now`; what exceeds `cap` is
    /// taken from its oldest grants.
    public mutating func deposit(_ amount: Double, to source: String, now: Millis) {
        guard amount > 0 else { return }
        let cap = self.cap
        update(source, now: now) { list in
            if let last = list.last, now - last.earned < Self.mergeMillis, now >= last.earned {
                list[list.count - 1].amount += amount
            } else {
                list.append(Grant(amount: amount, earned: now))
            }
            if list.count > Self.maxGrants {  // merge the two oldest: the merged grant lapses with the older
                list[1].amount += list[0].amount
                list[1].earned = list[0].earned
                list.removeFirst()
            }
            var excess = list.reduce(0) { $0 + $1.amount } - cap
            while excess > 0, !list.isEmpty {
                let take = min(excess, list[0].amount)
                list[0].amount -= take
                excess -= take
                if list[0].amount <= 0 { list.removeFirst() }
            }
        }
    }

    /// What `source` could be answered with now.
    public func available(to source: String, now: Millis) -> Double {
        let list = grants[source] ?? (grants.count >= maxSources ? overflow : [])
        return list.reduce(0) { $0 + (Self.isLive($1, now: now, lifetime: lifetime) ? $1.amount : 0) }
    }

    /// Spends `amount` of `source`'s live grants, oldest first; returns false, spending nothing, if they hold less.
    public mutating func spend(_ amount: Double, from source: String, now: Millis) -> Bool {
        update(source, now: now) { list in
            guard list.reduce(0, { $0 + $1.amount }) >= amount else { return false }
            var left = amount
            while left > 0, !list.isEmpty {
                let take = min(left, list[0].amount)
                list[0].amount -= take
                left -= take
                if list[0].amount <= 0 { list.removeFirst() }
            }
            return true
        }
    }

    /// Forgets sources whose grants have all lapsed.
    public mutating func prune(now: Millis) {
        let lifetime = self.lifetime
        grants = grants.filter { _, list in list.contains { Self.isLive($0, now: now, lifetime: lifetime) } }
        overflow.removeAll { !Self.isLive($0, now: now, lifetime: lifetime) }
    }

    private static func isLive(_ grant: Grant, now: Millis, lifetime: Millis) -> Bool {
        grant.amount > 0 && now - grant.earned < lifetime
    }

    /// Runs `body` on `source`'s live grants (lapsed ones removed first), or on the shared overflow grants when the
    /// table is full of live sources.
    private mutating func update<R>(_ source: String, now: Millis, _ body: (inout [Grant]) -> R) -> R {
        let lifetime = self.lifetime
        if grants[source] == nil, grants.count >= maxSources { prune(now: now) }
        if grants[source] == nil, grants.count >= maxSources {
            overflow.removeAll { !Self.isLive($0, now: now, lifetime: lifetime) }
            return body(&overflow)
        }
        var list = grants[source] ?? []
        list.removeAll { !Self.isLive($0, now: now, lifetime: lifetime) }
        let result = body(&list)
        grants[source] = list.isEmpty ? nil : list
        return result
    }
}
