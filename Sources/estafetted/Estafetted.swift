import ArgumentParser
import EstafetteAPI
import EstafetteCore
import EstafetteNode
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The entry point. A static binary reads its arguments from /proc/self/cmdline: without /proc (a bare chroot)
/// it sees none, and would run on defaults the caller never asked for (the host's network); stop with a clear
/// message instead. With /proc there, no arguments means none were given (libfaketime's preload, used by the
/// clock test, hides them too), and the defaults apply.
@main
enum EstafettedMain {
    static func main() async {
        guard !CommandLine.arguments.isEmpty || access("/proc/self/cmdline", R_OK) == 0 else {
            FileHandle.standardError.write(Data("estafetted: cannot read the command line (is /proc mounted?)\n".utf8))
            exit(71)
        }
        await Estafetted.main()
    }
}

struct Estafetted: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estafetted",
        abstract: "The Estafette mesh daemon: carries sealed messages over the LAN and serves the local API.",
        discussion: """
            Runs with no configuration at all: the data directory defaults to $XDG_DATA_HOME/estafette \
            (~/.local/share/estafette) and the API socket to $XDG_RUNTIME_DIR/estafette/estafetted.sock \
            (<data dir>/estafetted.sock without XDG_RUNTIME_DIR). Every setting is documented in \
            Config/estafette.toml. Command-line options override the file.

            As a system service (systemd sets STATE_DIRECTORY, RUNTIME_DIRECTORY and CONFIGURATION_DIRECTORY, \
            or --system) it uses /var/lib/estafette, /run/estafette/estafetted.sock and \
            /etc/estafette/estafette.toml (when that file exists), and tells systemd READY, STOPPING and \
            WATCHDOG through NOTIFY_SOCKET.

            Exit status: 0 stopped cleanly; 1 runtime failure; 10 stopped after a panic wipe (node.wipe); \
            64 bad command line; 78 configuration error (also: a data directory or key file open to other users).
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

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Use the system service's paths: /var/lib/estafette, /run/estafette/estafetted.sock, "
                + "/etc/estafette/estafette.toml (what systemd's directory variables also select)."))
    var system = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Check a configuration file (FILE, else --config, else the service's) and exit: 0 when valid, "
                + "78 with file:line: key: reason when not."))
    var checkConfig = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the passphrase of the key files from this file descriptor, to its end (else "
                + "$CREDENTIALS_DIRECTORY/passphrase when it exists, else a prompt on the terminal when a key "
                + "file is sealed and standard input is a terminal).", valueName: "N"))
    var passphraseFd: Int32?

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Re-seal identity.key and data.key with the passphrase read from --new-passphrase-fd (without it: "
                + "store them without a passphrase), reading them with the current one; then exit. The daemon "
                + "must be stopped."))
    var resealKeys = false

    @Option(name: .long, help: ArgumentHelp("With --reseal-keys: the new passphrase's descriptor.", valueName: "N"))
    var newPassphraseFd: Int32?

    @Argument(help: ArgumentHelp("The file --check-config checks.", valueName: "FILE"))
    var checkFile: String?

    mutating func validate() throws {
        if checkFile != nil && !checkConfig {
            throw ValidationError("a FILE argument is only taken with --check-config")
        }
    }

    mutating func run() async throws {
        // Never let an error escape: it would crash the process instead of exiting cleanly.
        do {
            if checkConfig {
                try checkConfigFile()
            } else if resealKeys {
                try resealKeyFiles()
            } else {
                try await runDaemon()
            }
        } catch let e as DaemonFailure {
            FileHandle.standardError.write(Data("estafetted: \(e.message)\n".utf8))
            throw ExitCode(e.exitCode)
        } catch let e as SecretFile.Failure {
            FileHandle.standardError.write(Data("estafetted: \(e.description)\n".utf8))
            throw ExitCode(78)
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

    /// The file to read: `--config`, else the service's (`$CONFIGURATION_DIRECTORY` or `--system`) when it exists.
    var configFile: String? {
        if let config { return config }
        let service = DefaultPaths.serviceConfigFile ?? (system ? DefaultPaths.System.configFile : nil)
        if let service, access(service, F_OK) == 0 { return service }
        return nil
    }

    /// `--check-config`: parses the file strictly (as start-up does) and reports.
    func checkConfigFile() throws {
        guard let path = checkFile ?? configFile else {
            throw DaemonFailure(
                message: "--check-config: no configuration file (name one: estafetted --check-config FILE)",
                exitCode: 64)
        }
        var copy = self
        copy.config = path
        _ = try copy.loadConfig()
        print("\(path): ok")
    }

    func loadConfig() throws -> NodeConfig {
        var cfg: NodeConfig
        if system {
            cfg = NodeConfig(dataDir: DefaultPaths.System.dataDir, socketPath: DefaultPaths.System.socketPath)
        } else {
            cfg = NodeConfig()
        }
        if let path = configFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = access(path, R_OK) == 0 ? "cannot read the file" : String(cString: strerror(errno))
                throw ConfigError(file: path, line: nil, key: nil, reason: "cannot read the file: \(reason)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(file: path, line: nil, key: nil, reason: "the file is not UTF-8 text")
            }
            let defaults = cfg
            cfg = try NodeConfig.load(file: path, text: text)
            if system {
                // The file's own data_dir / api.socket win; else the system paths stay.
                if cfg.dataDir == NodeConfig().dataDir { cfg.dataDir = defaults.dataDir }
                if cfg.socketPath == NodeConfig(dataDir: cfg.dataDir).socketPath,
                    cfg.dataDir == defaults.dataDir
                {
                    cfg.socketPath = defaults.socketPath
                }
            }
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

    /// The key files' passphrase: `--passphrase-fd`, else `$CREDENTIALS_DIRECTORY/passphrase` (systemd's
    /// `LoadCredentialEncrypted=`), else a prompt on the terminal when standard input is one and a key file in
    /// `dataDir` is sealed, else none.
    func passphrase(dataDir: String) throws -> SecretBytes? {
        if let fd = passphraseFd {
            return try KeySeal.readPassphrase(fd: fd, source: "--passphrase-fd \(fd)")
        }
        if let dir = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !dir.isEmpty,
            access(dir + "/passphrase", F_OK) == 0
        {
            return try KeySeal.readPassphrase(path: dir + "/passphrase")
        }
        let sealed =
            KeySeal.isSealed(path: dataDir + "/identity.key", header: IdentityFile.header)
            || KeySeal.isSealed(path: dataDir + "/" + DataKeyFile.fileName, header: DataKeyFile.header)
        if sealed, isatty(0) == 1 {
            return try KeySeal.promptOnTerminal("Passphrase of the keys in \(dataDir): ")
        }
        return nil
    }

    /// `--reseal-keys`: both key files are read first (a wrong passphrase changes nothing), then each is
    /// re-sealed atomically (SecretFile.reseal).
    func resealKeyFiles() throws {
        let cfg = try loadConfig()
        try SecretFile.checkDirectory(cfg.dataDir)
        let lock = try DataDirLock(dir: cfg.dataDir)
        defer { lock.release() }
        let old = try passphrase(dataDir: cfg.dataDir)
        let new = try newPassphraseFd.map { fd throws in
            try KeySeal.readPassphrase(fd: fd, source: "--new-passphrase-fd \(fd)")
        }
        let files = [
            (cfg.dataDir + "/identity.key", IdentityFile.header, "identity key"),
            (cfg.dataDir + "/" + DataKeyFile.fileName, DataKeyFile.header, "data key"),
        ].filter { access($0.0, F_OK) == 0 }
        for (path, header, what) in files {
            _ = try SecretFile.read(path: path, header: header, what: what, passphrase: old)
        }
        for (path, header, what) in files {
            try SecretFile.reseal(path: path, header: header, what: what, old: old, new: new)
            print("\(path): \(new == nil ? "stored without a passphrase" : "sealed with the new passphrase")")
        }
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
        do {
            try SecretFile.checkDirectory(cfg.dataDir)
        } catch {
            throw DaemonFailure(message: error.description, exitCode: 78)
        }
        let lock = try DataDirLock(dir: cfg.dataDir)
        defer { lock.release() }

        let identityPath = cfg.dataDir + "/identity.key"
        let passphrase = try self.passphrase(dataDir: cfg.dataDir)
        let keys: SigningKeyPair
        let created: Bool
        do {
            (keys, created) = try IdentityFile.loadOrCreate(path: identityPath, passphrase: passphrase)
        } catch let e as IdentityFile.Failure {
            throw DaemonFailure(message: e.description, exitCode: 78)
        }
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
        if let pass = cfg.meshPassphrase, let name = cfg.meshName {
            guard let k = MeshKey.fromPassphrase(pass, meshName: name) else {
                throw DaemonFailure(message: "cannot derive the mesh key (Argon2id failed: out of memory?)")
            }
            meshKey = k
        } else {
            meshKey = .publicDefault
        }
        let store: Store
        do {
            let (dataKey, _) = try DataKeyFile.loadOrCreate(
                path: cfg.dataDir + "/" + DataKeyFile.fileName, passphrase: passphrase)
            store = try Store(path: cfg.dataDir + "/estafette.sqlite", dataKey: dataKey)
        } catch let e as SecretFile.Failure {
            throw DaemonFailure(message: e.description, exitCode: 78)
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
        let api = APIServer(
            path: cfg.socketPath, shell: shell, relay: relay, logger: logger, maxConnections: cfg.apiMaxConnections)
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
        if let listen = cfg.metricsListen {
            let metrics = MetricsServer(listen: listen, shell: shell, logger: logger)
            do {
                services.append(.init(service: BoundMetricsService(server: metrics, bound: try await metrics.bind())))
            } catch {
                throw DaemonFailure(message: "cannot listen on metrics.listen \(listen): \(error)")
            }
        }
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        if notifier.watchdogPingNanos != nil {
            logger.info(
                "systemd watchdog on", metadata: ["ping.interval.ms": "\(notifier.watchdogPingNanos! / 1_000_000)"])
        }
        // Shut down in reverse order: the watchdog first (it sends STOPPING=1), then the API, then the LAN.
        let group = ServiceGroup(
            configuration: .init(
                services: services + [
                    .init(service: WatchdogService(notifier: notifier, shell: shell, logger: logger))
                ],
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

/// No core dumps: they would hold secret keys. And room for file descriptors: the soft limit (often 1,024) is
/// raised to the hard one, up to 4,096, so the sockets the daemon holds (API connections are capped at
/// `api.max_connections`, relay links at their own caps) never exhaust it.
///
/// Not dumpable either (`PR_SET_DUMPABLE` 0): no core file whatever the limit, and other processes of the same user
/// cannot ptrace the daemon or read its memory through /proc. Both are checked; a failure stops the start.
func hardenProcess() throws {
    var lim = rlimit(rlim_cur: 0, rlim_max: 0)
    guard setrlimit(Int32(RLIMIT_CORE.rawValue), &lim) == 0 else {
        throw DaemonFailure(
            message: "cannot turn core dumps off (setrlimit RLIMIT_CORE): \(String(cString: strerror(errno)))")
    }
    guard Prctl.setDumpable(false), Prctl.isDumpable() == false else {
        throw DaemonFailure(message: "cannot make the process non-dumpable (prctl PR_SET_DUMPABLE)")
    }
    var files = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files) == 0, files.rlim_cur < min(files.rlim_max, 4096) {
        files.rlim_cur = min(files.rlim_max, 4096)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &files)
    }
}

/// `prctl(2)` is variadic in C, which Swift does not import: call it through a non-variadic pointer (integer
/// arguments are passed the same way on the Linux ABIs the daemon runs on: x86-64 and AArch64).
enum Prctl {
    typealias Fn = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
    static let fn: Fn? = {
        guard let sym = dlsym(nil, "prctl") else { return nil }  // RTLD_DEFAULT
        return unsafeBitCast(sym, to: Fn.self)
    }()
    static let PR_GET_DUMPABLE: Int32 = 3
    static let PR_SET_DUMPABLE: Int32 = 4

    static func setDumpable(_ on: Bool) -> Bool {
        guard let fn else { return false }
        return fn(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0) == 0
    }

    static func isDumpable() -> Bool? {
        guard let fn else { return nil }
        let r = fn(PR_GET_DUMPABLE, 0, 0, 0, 0)
        return r < 0 ? nil : r != 0
    }
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
