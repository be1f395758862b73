/// Named event counters (`packets_in`, `drop.bad_mac`, …).
public struct Counters: Sendable, Equatable {
    public private(set) var values: [String: Int64] = [:]

    public init() {}

    public mutating func add(_ name: String, _ n: Int64 = 1) {
        values[name, default: 0] += n
    }

    public subscript(name: String) -> Int64 { values[name] ?? 0 }
}
