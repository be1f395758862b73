import EstafetteCore
import EstafetteNode
import Logging

/// Relay links: the runtime is built from `[relay]`, `[[relays]]` and the relays added with `relays.add`
/// (`RelayContext`), with the node's link key from `link.key`. The `--relay-listen` and `--relay` flags (kept
/// from before the config keys existed) add to the config: `--relay-listen host:port` turns the relay role on
/// there, `--relay es1…@host:port` lists one more relay.
extension Estafetted {
    /// Applies the relay flags to `cfg`.
    func applyRelayFlags(to cfg: inout NodeConfig) throws {
        if let l = relayListen {
            guard let hp = HostPort(l) else {
                throw DaemonFailure(message: "--relay-listen: '\(l)' is not host:port", exitCode: 64)
            }
            cfg.relay.enabled = true
            cfg.relay.listen = hp
        }
        for r in relay {
            guard let at = r.firstIndex(of: "@"), let address = HostPort(String(r[r.index(after: at)...])) else {
                throw DaemonFailure(message: "--relay: '\(r)' is not es1…@host:port", exitCode: 64)
            }
            let id: PublicID
            do {
                id = try PublicID(parsing: String(r[..<at]))
            } catch {
                throw DaemonFailure(message: "--relay: \(error)", exitCode: 64)
            }
            guard !cfg.relays.contains(where: { $0.address == address }) else { continue }
            cfg.relays.append(RelayEndpoint(address: address, id: id))
        }
    }

    /// The link runtime, attached to the API's relay context. Always built: a node with no relay yet links as
    /// soon as one is added with `relays.add`.
    func relayRuntime(
        identity: SigningKeyPair, shell: NodeShell, context: RelayContext, logger: Logger
    ) throws -> RelayRuntime {
        let settings = context.settings
        let listen =
            settings.enabled
            ? RelayListenConfig(
                host: settings.listen.host, port: settings.listen.port,
                allowedLinkKeys: Set(settings.allowLinkKeys)) : nil
        let runtime = RelayRuntime(
            config: RelayRuntimeConfig(
                linkKey: context.linkKey, listen: listen, links: try context.linkConfigs(), quota: context.quota),
            identity: identity, node: shell, logger: logger)
        context.attach(runtime)
        context.quota.onEviction { ids in await shell.forget(ids) }
        return runtime
    }
}
