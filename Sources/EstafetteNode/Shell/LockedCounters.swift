import EstafetteCore
import NIOConcurrencyHelpers

/// Counters that tasks outside the shell's actor (API connections) bump directly; `node.status` reports them with
/// the node's own.
public final class LockedCounters: Sendable {
    private let box = NIOLockedValueBox(Counters())

    public init() {}

    public func add(_ name: String, _ n: Int64 = 1) {
        box.withLockedValue { $0.add(name, n) }
    }

    public var values: [String: Int64] { box.withLockedValue { $0.values } }
}
