/// Token buckets per LAN source address: how much one source may spend of something (envelopes accepted, bytes
/// of reassembly, decoding work, bytes sent in answer to it), refilled at a steady rate or earned by deposits.
///
/// A forger on the LAN picks session IDs, stream IDs and claimed counts freely, but not (cheaply, and not beyond
/// its subnet) the address its datagrams come from, so every per-peer budget is keyed by ``PeerAddress/source``.
/// The table is bounded: once it holds `maxSources` sources and none of them is idle, a new source shares one
/// overflow bucket, so spraying fresh addresses buys a single budget, never memory.
public struct SourceBudgets: Sendable {
    /// How big a burst a source may spend at once, and how fast its budget comes back.
    public struct Rate: Sendable, Equatable {
        public var burst: Double
        public var perSecond: Double

        public init(burst: Double, perSecond: Double) {
            precondition(burst >= 0 && perSecond >= 0, "a budget cannot be negative")
            self.burst = burst
            self.perSecond = perSecond
        }
    }

    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Millis

        mutating func refill(_ rate: Rate, now: Millis) {
            if now > updated {
                tokens = min(rate.burst, tokens + Double(now - updated) / 1000 * rate.perSecond)
                updated = now
            }
        }
    }

    public let rate: Rate
    public let maxSources: Int
    /// Where a new source starts: a full bucket for a refilling budget, an empty one for an earned budget.
    private let startFull: Bool
    private var buckets: [String: Bucket] = [:]
    private var overflow: Bucket

    /// - Parameters:
    ///   - startFull: true for a budget that refills over time (a new source may spend `burst` at once); false for
    ///     one that is only earned through ``deposit(_:to:now:)``.
    public init(rate: Rate, maxSources: Int = 256, startFull: Bool = true) {
        precondition(maxSources > 0, "a budget table needs room for one source")
        self.rate = rate
        self.maxSources = maxSources
        self.startFull = startFull
        self.overflow = Bucket(tokens: startFull ? rate.burst : 0, updated: 0)
    }

    /// The number of sources with a bucket of their own.
    public var trackedSources: Int { buckets.count }

    /// Spends `amount` from `source`'s budget if it holds that much; returns false, spending nothing, if not.
    public mutating func spend(_ amount: Double, from source: String, now: Millis) -> Bool {
        update(source, now: now) { bucket in
            guard bucket.tokens >= amount else { return false }
            bucket.tokens -= amount
            return true
        }
    }

    /// Adds `amount` to `source`'s budget, up to its burst (an earned budget: bytes a request entitles to).
    public mutating func deposit(_ amount: Double, to source: String, now: Millis) {
        let burst = rate.burst
        update(source, now: now) { bucket in
            bucket.tokens = min(burst, bucket.tokens + amount)
        }
    }

    /// What `source` could spend now.
    public func available(to source: String, now: Millis) -> Double {
        var bucket = buckets[source] ?? (buckets.count >= maxSources ? overflow : fresh(now))
        bucket.refill(rate, now: now)
        return bucket.tokens
    }

    /// Forgets sources whose bucket is back where a new source starts (full, or empty for an earned budget).
    public mutating func prune(now: Millis) {
        let rate = self.rate
        let startFull = self.startFull
        buckets = buckets.filter { _, bucket in
            var bucket = bucket
            bucket.refill(rate, now: now)
            return startFull ? bucket.tokens < rate.burst : bucket.tokens > 0
        }
    }

    private func fresh(_ now: Millis) -> Bucket { Bucket(tokens: startFull ? rate.burst : 0, updated: now) }

    private mutating func update<R>(_ source: String, now: Millis, _ body: (inout Bucket) -> R) -> R {
        if buckets[source] == nil, buckets.count >= maxSources {
            prune(now: now)
        }
        if buckets[source] == nil, buckets.count >= maxSources {
            overflow.refill(rate, now: now)
            return body(&overflow)
        }
        var bucket = buckets[source] ?? fresh(now)
        bucket.refill(rate, now: now)
        let result = body(&bucket)
        buckets[source] = bucket
        return result
    }
}

extension PeerAddress {
    /// The key of this address's per-source budgets: the host it came from and the interface it came in on (what
    /// a forger cannot choose freely), never the port or the session ID.
    public var source: String { "\(interface)/\(host)" }
}
