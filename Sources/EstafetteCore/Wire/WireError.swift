/// Why bytes from the network were rejected. Each value names a drop reason used in counters.
public struct WireError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case truncated
        case oversized
        case unknownVersion
        case unknownKind
        case trailingBytes
        case badMagic
        case badMAC
        case unknownPacketType
        case invalid
    }

    private let base: Base
    /// The field or value concerned, for messages and logs.
    public let detail: String

    private init(_ base: Base, _ detail: String) {
        self.base = base
        self.detail = detail
    }

    public static func truncated(_ field: String) -> WireError { .init(.truncated, field) }
    public static func oversized(_ field: String, _ value: Int) -> WireError { .init(.oversized, "\(field)=\(value)") }
    public static func unknownVersion(_ v: UInt8) -> WireError { .init(.unknownVersion, "\(v)") }
    public static func unknownKind(_ k: UInt8) -> WireError { .init(.unknownKind, "\(k)") }
    public static func trailingBytes(_ n: Int) -> WireError { .init(.trailingBytes, "\(n)") }
    public static let badMagic = WireError(.badMagic, "")
    public static let badMAC = WireError(.badMAC, "")
    public static func unknownPacketType(_ t: UInt8) -> WireError { .init(.unknownPacketType, "\(t)") }
    public static func invalid(_ why: String) -> WireError { .init(.invalid, why) }

    /// A stable snake_case name for counters (`drop.<reason>`).
    public var reason: String {
        switch base {
        case .truncated: return "truncated"
        case .oversized: return "oversized"
        case .unknownVersion: return "unknown_version"
        case .unknownKind: return "unknown_kind"
        case .trailingBytes: return "trailing_bytes"
        case .badMagic: return "bad_magic"
        case .badMAC: return "bad_mac"
        case .unknownPacketType: return "unknown_packet_type"
        case .invalid: return "invalid"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
}
