import EstafetteCore
import EstafetteNode
import Logging

/// Interim wiring of relay links from the command line (`--relay-listen`, `--relay`), until the `[relay]` and
/// `[[relays]]` config keys and the link key file (branch relay-ops) replace it. Without a key file, the link
/// key is a fresh one per start: enough while `allow_link_keys` is not used.
extension Estafetted {
    func relayRuntime(identity: SigningKeyPair, shell: NodeShell, logger: Logger) throws -> RelayRuntime? {
        guard relayListen != nil || !relay.isEmpty else { return nil }
        var listen: RelayListenConfig?
        if let l = relayListen {
            guard let colon = l.lastIndex(of: ":"), let port = Int(l[l.index(after: colon)...]),
                (0...65535).contains(port)
            else { throw DaemonFailure(message: "--relay-listen: '\(l)' is not host:port", exitCode: 64) }
            var host = String(l[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            listen = RelayListenConfig(host: host, port: port)
        }
        var links: [RelayLinkConfig] = []
        for r in relay {
            guard let at = r.firstIndex(of: "@") else {
                throw DaemonFailure(message: "--relay: '\(r)' is not es1…@host:port", exitCode: 64)
            }
            let id: PublicID
            do {
                id = try PublicID(parsing: String(r[..<at]))
            } catch {
                throw DaemonFailure(message: "--relay: \(error)", exitCode: 64)
            }
            links.append(RelayLinkConfig(address: String(r[r.index(after: at)...]), pinnedID: id.key))
        }
        let runtime = RelayRuntime(
            config: RelayRuntimeConfig(linkKey: NoiseKeyPair.generate(), listen: listen, links: links),
            identity: identity, node: shell, logger: logger)
        return runtime
    }
}
