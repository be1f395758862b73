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
