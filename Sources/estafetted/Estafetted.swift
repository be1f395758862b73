import ArgumentParser
import EstafetteCore
import EstafetteNode
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

@main
struct Estafetted: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estafetted",
        abstract: "The Estafette mesh daemon: carries sealed messages over the LAN and serves the local API.",
        discussion: """
            Runs with no configuration at all: the data directory defaults to $XDG_DATA_HOME/estafette \
            (~/.local/share/estafette) and the API socket to $XDG_RUNTIME_DIR/estafette/estafetted.sock \
            (<data dir>/estafetted.sock without XDG_RUNTIME_DIR). Every setting is documented in \
            Config/estafette.toml. Command-line options override the file.
            """,
        version: EstafetteVersion.string
    )

    @Option(name: .long, help: "A TOML configuration file.")
    var config: String?

    @Option(name: .long, help: "Directory for the identity key and the database.")
    var dataDir: String?

    @Option(name: .long, help: "Path of the API's Unix socket.")
    var socket: String?

    @Option(name: .long, help: "LAN interface to use (repeatable); overrides lan.interfaces.")
    var interface: [String] = []

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String?

    @Option(name: .long, help: "Accept relay links on host:port (turns [relay] on there; see docs/relays.md).")
    var relayListen: String?

    @Option(name: .long, help: "Link to a relay, es1…@host:port (repeatable; adds to [[relays]]).")
    var relay: [String] = []

    mutating func run() async throws {
        // Never let an error escape: it would crash the process instead of exiting cleanly.
        do {
            try await runDaemon()
        } catch let e as DaemonFailure {
            FileHandle.standardError.write(Data("estafetted: \(e.message)\n".utf8))
            throw ExitCode(e.exitCode)
        } catch let e as LinkKeyFile.Failure {
            FileHandle.standardError.write(Data("estafetted: relay link key: \(e)\n".utf8))
            throw ExitCode(78)
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("estafetted: configuration error: \(e)\n".utf8))
            throw ExitCode(78)
        } catch {
            FileHandle.standardError.write(Data("estafetted: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    func loadConfig() throws -> NodeConfig {
        var cfg: NodeConfig
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = access(path, R_OK) == 0 ? "cannot read the file" : String(cString: strerror(errno))
                throw ConfigError(file: path, line: nil, key: nil, reason: "cannot read the file: \(reason)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(file: path, line: nil, key: nil, reason: "the file is not UTF-8 text")
            }
            cfg = try NodeConfig.load(file: path, text: text)
        } else {
            cfg = NodeConfig()
        }
        if let d = dataDir {
            let socketWasDefault = cfg.socketPath == NodeConfig(dataDir: cfg.dataDir).socketPath
            cfg.dataDir = d
            if socketWasDefault { cfg.socketPath = NodeConfig(dataDir: d).socketPath }
        }
        if let s = socket {
            if let problem = NodeConfig.socketPathProblem(s) {
                throw DaemonFailure(message: "--socket: \(problem)", exitCode: 64)
            }
            cfg.socketPath = s
        }
        if !interface.isEmpty { cfg.lanInterfaces = interface }
        try applyRelayFlags(to: &cfg)
        if let l = logLevel {
            guard Logger.Level(rawValue: l) != nil else {
                throw DaemonFailure(message: "--log-level: '\(l)' is not a log level", exitCode: 64)
            }
            cfg.logLevel = l
        }
        return cfg
    }

    func runDaemon() async throws {
        let cfg = try loadConfig()
        let level = Logger.Level(rawValue: cfg.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "estafetted")
        try hardenProcess()

        // Files holding secrets are created 0600 and directories 0700.
        umask(0o077)
        do {
            try FileManager.default.createDirectory(
                atPath: cfg.dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DaemonFailure(message: "cannot create data directory \(cfg.dataDir): \(error.localizedDescription)")
        }
        let lock = try DataDirLock(dir: cfg.dataDir)
        defer { lock.release() }

        let identityPath = cfg.dataDir + "/identity.key"
        let (keys, created) = try IdentityFile.loadOrCreate(path: identityPath)
        let id = PublicID(key: keys.publicKey)
        if created {
            logger.notice(
                "created a new identity", metadata: ["identity.id": "\(id)", "identity.file": "\(identityPath)"])
        }
        let linkKeyPath = cfg.dataDir + "/" + LinkKeyFile.fileName
        let (linkKey, linkKeyCreated) = try LinkKeyFile.loadOrCreate(path: linkKeyPath)
        if linkKeyCreated {
            logger.notice(
                "created a new relay link key",
                metadata: ["link.key": "\(linkKey.publicKeyHex)", "link.file": "\(linkKeyPath)"])
        }
        let meshKey: MeshKey
        if let pass = cfg.meshPassphrase {
            guard let k = MeshKey.fromPassphrase(pass) else {
                throw DaemonFailure(message: "cannot derive the mesh key (Argon2id failed: out of memory?)")
            }
            meshKey = k
        } else {
            meshKey = .publicDefault
        }
        let store: Store
        do {
            store = try Store(path: cfg.dataDir + "/estafette.sqlite")
        } catch {
            throw DaemonFailure(message: "cannot open the database in \(cfg.dataDir): \(error)")
        }
        do {
            try NodeService.validateInterfaces(cfg)
        } catch {
            throw DaemonFailure(message: "\(error)", exitCode: 78)
        }
        let shell = try NodeShell(identity: keys, meshKey: meshKey, store: store, config: cfg, logger: logger)
        let relay: RelayContext
        do {
            relay = try RelayContext(linkKey: linkKey, config: cfg, store: store)
        } catch {
            throw DaemonFailure(message: "cannot read the relay list from the database: \(error)")
        }
        let api = APIServer(path: cfg.socketPath, shell: shell, relay: relay, logger: logger)
        let bound: APIServer.BoundServer
        do {
            bound = try await api.bind()
        } catch {
            throw DaemonFailure(message: "cannot listen on \(cfg.socketPath): \(error)")
        }
        logger.notice(
            "estafetted started",
            metadata: [
                "identity.id": "\(id)", "data.dir": "\(cfg.dataDir)", "api.socket": "\(cfg.socketPath)",
                "lan.group": "\(cfg.lanGroup):\(cfg.lanPort)",
                "lan.mesh": "\(cfg.meshPassphrase == nil ? "public" : "private")",
                "relay.listen": "\(cfg.relay.enabled ? cfg.relay.listen.description : "off")",
                "relay.links": "\(cfg.relays.count)",
            ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: NodeService(shell: shell, config: cfg, logger: logger)),
            .init(service: BoundAPIService(server: api, bound: bound)),
        ]
        let relays = try relayRuntime(identity: keys, shell: shell, context: relay, logger: logger)
        await shell.attachRelays(relays)
        services.append(.init(service: relays))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.notice("estafetted stopped")
    }
}

struct DaemonFailure: Error {
    let message: String
    var exitCode: Int32 = 1
}

/// No core dumps: they would hold secret keys.
func hardenProcess() throws {
    var lim = rlimit(rlim_cur: 0, rlim_max: 0)
    _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &lim)
    _ = lim
}

/// An exclusive lock on the data directory: two daemons must never share one database and identity.
struct DataDirLock {
    let fd: Int32

    init(dir: String) throws {
        let path = dir + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DaemonFailure(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw DaemonFailure(message: "another estafetted is already using the data directory \(dir)")
        }
    }

    func release() {
        close(fd)
    }
}
