/// Reconnection delays of an outgoing relay link, which the daemon's link supervisor and the simulator share:
/// doubling from `initial` up to `max`, each multiplied by a random factor in [0.5, 1.5) so that links cut at
/// once do not all come back at once.
public struct RelayBackoff: Sendable {
    public let initialMillis: Int64
    public let maxMillis: Int64
    public private(set) var attempt = 0

    public init(initialMillis: Int64, maxMillis: Int64) {
        self.initialMillis = max(1, initialMillis)
        self.maxMillis = max(self.initialMillis, maxMillis)
    }

    /// The next delay, in milliseconds; `random` is in [0, 1).
    public mutating func next(random: Double) -> Int64 {
        let shift = min(attempt, 30)
        attempt += 1
        let base = min(maxMillis, initialMillis << Int64(shift))
        return Int64(Double(base) * (0.5 + random))
    }

    /// After a link that worked: start again from `initial`.
    public mutating func reset() { attempt = 0 }
}
