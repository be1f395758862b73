import EstafetteAPI
import EstafetteCore
import Foundation

/// The relay and sneakernet methods: relays.add, relays.remove, relays.list, store.export, store.import.
extension Dispatcher {
    static let relayMethods: [String] = [
        RPC.Method.relaysAdd, RPC.Method.relaysRemove, RPC.Method.relaysList, RPC.Method.storeExport,
        RPC.Method.storeImport,
    ]

    /// The answer to a relay or sneakernet method; nil for any other method.
    func relayAnswer(method: String, params: JSONValue?) async throws -> Answer? {
        switch method {
        case RPC.Method.relaysList:
            _ = try decode(Empty.self, params)
            return try .from(try await relaysList())
        case RPC.Method.relaysAdd:
            let p = try decode(RelaysAddParams.self, params)
            let relay = try requireRelay()
            guard let address = HostPort(p.address) else {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.badAddress,
                    message: "'\(p.address.prefix(80))' is not host:port (e.g. \"relay.example.org:4546\")")
            }
            let id = PublicID(key: try parseID(p.id))
            if let c = relay.configRelays.first(where: { $0.address == address }) {
                guard c.id == id else {
                    throw RPCErrorObject(
                        code: RPC.ErrorCode.relayConflict,
                        message: "\(address) is set in the config file with ID \(c.id); edit the file to change it")
                }
                return try .from(OK())
            }
            do {
                try relay.store.addRelay(address: address.description, id: id.description, at: wallClockMillis() / 1000)
            } catch let Store.RelayConflict.addressTaken(existing) {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.relayConflict,
                    message: "\(address) is already listed with ID \(existing); remove it first")
            } catch {
                throw RPCErrorObject(code: RPC.ErrorCode.storageFailure, message: "database error: \(error)")
            }
            try changed(relay)
            return try .from(OK())
        case RPC.Method.relaysRemove:
            let p = try decode(RelaysRemoveParams.self, params)
            let relay = try requireRelay()
            let address = HostPort(p.address)
            if let address, relay.configRelays.contains(where: { $0.address == address }) {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.relayConflict,
                    message: "\(address) is set in the config file; remove it there and restart")
            }
            let key = address?.description ?? p.address
            guard try storage({ try relay.store.removeRelay(address: key) }) else {
                throw RPCErrorObject(code: RPC.ErrorCode.unknownRelay, message: "no relay at '\(key.prefix(80))'")
            }
            try changed(relay)
            return try .from(OK())
        case RPC.Method.storeExport:
            let p = try decode(StoreExportParams.self, params)
            try checkPath(p.path)
            let r: (envelopes: Int, bytes: Int)
            do throws(BundleFile.Failure) {
                r = try shell.exportBundle(path: p.path, since: p.since)
            } catch {
                throw RPCErrorObject(code: RPC.ErrorCode.fileError, message: error.description)
            }
            return try .from(StoreExported(envelopes: r.envelopes, bytes: r.bytes))
        case RPC.Method.storeImport:
            let p = try decode(StoreImportParams.self, params)
            try checkPath(p.path)
            let c: NodeShell.ImportCounts
            do throws(BundleFile.Failure) {
                c = try await shell.importBundle(path: p.path)
            } catch {
                let code = error.kind == .bundle ? RPC.ErrorCode.badBundle : RPC.ErrorCode.fileError
                let tail = error.kind == .bundle ? "; nothing was imported" : ""
                throw RPCErrorObject(code: code, message: error.description + tail)
            }
            return try .from(StoreImported(imported: c.imported, duplicates: c.duplicates, refused: c.refused))
        default:
            return nil
        }
    }

    /// Tells the link runtime (and the quota) that the list changed.
    func changed(_ relay: RelayContext) throws(RPCErrorObject) {
        do {
            try relay.relaysChanged()
        } catch {
            throw RPCErrorObject(code: RPC.ErrorCode.storageFailure, message: "database error: \(error)")
        }
    }

    func requireRelay() throws(RPCErrorObject) -> RelayContext {
        guard let relay else {
            throw RPCErrorObject(code: RPC.ErrorCode.internalError, message: "this node has no relay support")
        }
        return relay
    }

    /// Paths are the daemon's: relative ones would be resolved against its working directory, not the caller's.
    func checkPath(_ path: String) throws(RPCErrorObject) {
        guard path.hasPrefix("/"), path.utf8.count <= 4096, !path.utf8.contains(0) else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.invalidParams,
                message: "path must be an absolute path (the daemon resolves it, not the caller)")
        }
        if let dir = relay?.dataDir, Self.isInside(path, directory: dir) {
            throw RPCErrorObject(
                code: RPC.ErrorCode.invalidParams, message: "path must not be inside the daemon's data directory")
        }
    }

    /// Whether `path` names `directory` or something under it, after resolving symbolic links and `..` in both
    /// (the file itself need not exist; its directory is resolved).
    static func isInside(_ path: String, directory: String) -> Bool {
        func resolved(_ p: String) -> String? {
            guard let r = realpath(p, nil) else { return nil }
            defer { free(r) }
            return String(cString: r)
        }
        guard let dir = resolved(directory) else { return false }
        let parent = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let full = resolved(path) ?? resolved(parent).map { $0 == "/" ? "/" + name : $0 + "/" + name }
        guard let full else { return false }
        return full == dir || full.hasPrefix(dir == "/" ? "/" : dir + "/")
    }

    func relaysList() async throws -> RelaysList {
        let relay = try requireRelay()
        let all = try storage { try relay.relays() }
        // Outgoing links by address (the runtime keys them by the address it was given: HostPort's text).
        var statuses: [String: RelayLinkStatus] = [:]
        for s in relay.runtime?.statuses() ?? [] where !s.incoming { statuses[s.address] = s }
        return RelaysList(
            relays: all.map { r in
                let s = statuses[r.endpoint.address.description]
                return RelayInfo(
                    address: r.endpoint.address.description, id: r.endpoint.id.description, state: s?.state ?? "idle",
                    last_sync: s?.lastSync.map { $0 / 1000 }, envelopes_sent: Int64(s?.envelopesSent ?? 0),
                    envelopes_received: Int64(s?.envelopesReceived ?? 0), source: r.fromConfig ? "config" : "api")
            })
    }

    /// Link states that count as a link up in `node.status`.
    static let linkUp: Set<String> = ["syncing", "live"]

    func relayStatus() async throws -> RelayStatus? {
        guard let relay else { return nil }
        let f = try storage { try relay.quota.figures() }
        return RelayStatus(
            enabled: relay.settings.enabled, envelopes: f.envelopes, bytes: f.bytes, quota: f.maxBytes,
            evictions: f.evictions, refused_over_share: f.refusedOverShare, refused_full: f.refusedFull,
            links: relay.runtime?.statuses().filter { Self.linkUp.contains($0.state) }.count ?? 0,
            link_keys: f.linkKeys)
    }
}
