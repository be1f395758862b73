#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Panic wipe (docs/api.md, node.wipe; docs/security.md, "What a seized device reveals").
extension RPC.Method {
    public static let nodeWipe = "node.wipe"
}

extension RPC.ErrorCode {
    /// node.wipe without `"confirm": true`: nothing was touched.
    public static let confirmationRequired = -32060
    /// node.wipe: a file could not be destroyed (the answer says which); the daemon stops anyway.
    public static let wipeFailed = -32061
}

/// The daemon's exit status after a panic wipe: distinct from a clean stop (0), a failure (1), a bad command line
/// (64) and a configuration error (78), so that a supervisor can tell, and does not restart it
/// (`RestartPreventExitStatus=` in the systemd unit).
public enum WipeExit {
    public static let status: Int32 = 10
}

public struct NodeWipeParams: Codable, Sendable {
    /// Must be true: a wipe cannot be undone.
    public var confirm: Bool?
    public init(confirm: Bool?) { self.confirm = confirm }
}

public struct NodeWiped: Codable, Sendable, Equatable {
    public var wiped: Bool
    /// How many files were removed from the data directory (the key files included).
    public var files: Int
    /// How long the wipe took, in milliseconds, before the daemon stops.
    public var millis: Int
    public init(wiped: Bool, files: Int, millis: Int) {
        self.wiped = wiped
        self.files = files
        self.millis = millis
    }
}
