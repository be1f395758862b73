/// Milliseconds since the Unix epoch. The shell passes the wall clock; the simulator a virtual one.
public typealias Millis = Int64

/// Where a datagram came from: an address the shell understands, and the index of the LAN interface it came in on.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var interface: Int

    public init(host: String, port: Int, interface: Int) {
        self.host = host
        self.port = port
        self.interface = interface
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An envelope as the store keeps it.
public struct StoredEnvelope: Hashable, Sendable {
    public let id: EnvelopeID
    public let kind: Envelope.Kind
    public let expiresAt: UInt64
    public let bytes: [UInt8]

    public init(id: EnvelopeID, kind: Envelope.Kind, expiresAt: UInt64, bytes: [UInt8]) {
        self.id = id
        self.kind = kind
        self.expiresAt = expiresAt
        self.bytes = bytes
    }
}

/// SplitMix64: a tiny seedable generator for protocol jitter and simulation. Never used for key material
/// or nonces, which always come from libsodium.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Named event counters (`packets_in`, `drop.bad_mac`, …).
public struct Counters: Sendable, Equatable {
    public private(set) var values: [String: Int64] = [:]

    public init() {}

    public mutating func add(_ name: String, _ n: Int64 = 1) {
        values[name, default: 0] += n
    }

    public subscript(name: String) -> Int64 { values[name] ?? 0 }
}
