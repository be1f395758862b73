import NIOCore

/// The hello each side puts in a handshake payload: the initiator's in message 1, the relay's in message 2.
///
/// ```
///  0        1        2                 4                 6                 8
///  +--------+--------+-----------------+-----------------+-----------------+
///  | version| role   | capabilities    | receive window  | reserved        |
///  | u8 = 1 | u8     | u16 BE, 0       | u16 BE, ≥ 1     | u16 BE, 0       |
///  +--------+--------+-----------------+-----------------+-----------------+
/// ```
/// `version` is the highest link protocol version the sender speaks (1); the link uses the lower of the two.
/// `role` is 0 for a node, 1 for a relay. `capabilities` is a bit set, none defined in version 1 (a receiver
/// ignores bits it does not know). `receive window` is how many envelope records the sender accepts in flight.
/// A receiver reads the first 8 bytes and ignores any more (a later version may extend the hello).
///
/// Both hellos are 8 bytes, so the relay's message 2 is exactly as long as the initiator's message 1: an
/// unauthenticated peer never gets back more bytes than it sent.
public struct RelayHello: Sendable, Hashable {
    /// Which kind of daemon sent a hello.
    public enum Role: UInt8, Sendable, Hashable {
        case node = 0
        case relay = 1
    }

    /// The link protocol version this implementation speaks.
    public static let currentVersion: UInt8 = 1
    /// Bytes of an encoded hello.
    public static let length = 8

    public var version: UInt8
    public var role: Role
    public var capabilities: UInt16
    public var receiveWindow: UInt16

    public init(
        version: UInt8 = RelayHello.currentVersion, role: Role, capabilities: UInt16 = 0, receiveWindow: UInt16
    ) {
        self.version = version
        self.role = role
        self.capabilities = capabilities
        self.receiveWindow = receiveWindow
    }

    /// The 8 bytes of the diagram above.
    public func encoded() -> [UInt8] {
        var buf = ByteBuffer()
        buf.writeInteger(version)
        buf.writeInteger(role.rawValue)
        buf.writeInteger(capabilities, endianness: .big)
        buf.writeInteger(receiveWindow, endianness: .big)
        buf.writeInteger(UInt16(0), endianness: .big)
        return Array(buf.readableBytesView)
    }

    /// Reads a hello from a handshake payload; more than 8 bytes is allowed, fewer is not.
    public init(decoding payload: [UInt8]) throws(RelayLinkError) {
        guard payload.count >= Self.length else { throw .badHello("\(payload.count) bytes") }
        var buf = ByteBuffer(bytes: payload.prefix(Self.length))
        let version = buf.readInteger(as: UInt8.self)!
        let role = buf.readInteger(as: UInt8.self)!
        let capabilities = buf.readInteger(endianness: .big, as: UInt16.self)!
        let window = buf.readInteger(endianness: .big, as: UInt16.self)!
        guard version >= 1 else { throw .unsupportedVersion(version) }
        guard let r = Role(rawValue: role) else { throw .badHello("role \(role)") }
        guard window >= 1 else { throw .badHello("receive window 0") }
        self.init(version: version, role: r, capabilities: capabilities, receiveWindow: window)
    }
}
