/// Why a Negentropy message, record set or call was refused. Each value names a stable reason for counters and logs.
///
/// Decoding errors (`truncated`, `varintOverflow`, `badPrefixLength`, `badMode`, `badVersion`, `trailingBytes`)
/// mean the peer sent malformed bytes; a session that throws one moves to its failed state.
public struct NegentropyError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Base: Hashable, Sendable {
        case truncated
        case varintOverflow
        case badPrefixLength
        case badMode
        case badVersion
        case unsupportedVersion
        case duplicateRecord
        case unsortedRecords
        case reservedTimestamp
        case frameSizeLimitTooSmall
        case invalidSplitting
        case wrongRole
        case finished
        case failed
    }

    private let base: Base
    /// The field or value concerned, for messages and logs.
    public let detail: String

    private init(_ base: Base, _ detail: String) {
        self.base = base
        self.detail = detail
    }

    /// The message ended inside `field`.
    public static func truncated(_ field: String) -> NegentropyError { .init(.truncated, field) }
    /// A varint longer than 64 bits.
    public static let varintOverflow = NegentropyError(.varintOverflow, "")
    /// A bound's ID prefix longer than 32 bytes.
    public static func badPrefixLength(_ n: UInt64) -> NegentropyError { .init(.badPrefixLength, "\(n)") }
    /// A range mode other than Skip (0), Fingerprint (1) or IdList (2).
    public static func badMode(_ m: UInt64) -> NegentropyError { .init(.badMode, "\(m)") }
    /// A first byte outside 0x60…0x6F: not a Negentropy message at all.
    public static func badVersion(_ v: UInt8) -> NegentropyError { .init(.badVersion, "0x\(String(v, radix: 16))") }
    /// The responder only speaks another protocol version (the initiator cannot downgrade below v1).
    public static func unsupportedVersion(_ v: UInt8) -> NegentropyError {
        .init(.unsupportedVersion, "0x\(String(v, radix: 16))")
    }
    /// The same `(timestamp, id)` record was given twice.
    public static func duplicateRecord(_ r: NegentropyRecord) -> NegentropyError {
        .init(.duplicateRecord, "\(r.timestamp),\(r.id.hex)")
    }
    /// `NegentropyStorage(sorted:)` was given records out of order.
    public static func unsortedRecords(at position: Int) -> NegentropyError { .init(.unsortedRecords, "\(position)") }
    /// A record used the timestamp 2^64 − 1, which the protocol reserves for "infinity".
    public static let reservedTimestamp = NegentropyError(.reservedTimestamp, "")
    /// A frame size limit below the protocol's minimum of 4096 bytes.
    public static func frameSizeLimitTooSmall(_ n: Int) -> NegentropyError { .init(.frameSizeLimitTooSmall, "\(n)") }
    /// Splitting rules that could not make progress within the smallest frame (see `NegentropySplitting`).
    public static func invalidSplitting(_ why: String) -> NegentropyError { .init(.invalidSplitting, why) }
    /// A call that does not fit the session's role or state (`initiate` twice, `respond` on an initiator, …).
    public static func wrongRole(_ why: String) -> NegentropyError { .init(.wrongRole, why) }
    /// The initiator already has everything it asked for; the session takes no more messages.
    public static let finished = NegentropyError(.finished, "")
    /// An earlier call threw; the session takes no more messages.
    public static let failed = NegentropyError(.failed, "")

    /// A stable snake_case name for counters (`negentropy.<reason>`).
    public var reason: String {
        switch base {
        case .truncated: return "truncated"
        case .varintOverflow: return "varint_overflow"
        case .badPrefixLength: return "bad_prefix_length"
        case .badMode: return "bad_mode"
        case .badVersion: return "bad_version"
        case .unsupportedVersion: return "unsupported_version"
        case .duplicateRecord: return "duplicate_record"
        case .unsortedRecords: return "unsorted_records"
        case .reservedTimestamp: return "reserved_timestamp"
        case .frameSizeLimitTooSmall: return "frame_size_limit_too_small"
        case .invalidSplitting: return "invalid_splitting"
        case .wrongRole: return "wrong_role"
        case .finished: return "finished"
        case .failed: return "failed"
        }
    }

    public var description: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
}
