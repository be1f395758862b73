import EstafetteAPI
import EstafetteNode
import Foundation
import Testing

/// The config file loader, in process: every rule that stops the daemon with exit status 78 is checked here on the
/// TOML text; the integration tests keep one end-to-end run of the daemon on a bad file.
@Suite("NodeConfig")
struct NodeConfigTests {
    static let file = "/etc/estafette/estafette.toml"

    /// The error for `text`, or nil when it loads.
    static func error(_ text: String) -> ConfigError? {
        do {
            _ = try NodeConfig.load(file: file, text: text)
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "a bad config is refused with the file, line, key and reason",
        arguments: [
            ("[lan]\nport = 4545\nprot = 1\n", ":3: lan.prot: unknown key (known keys: "),
            ("[lan]\n\nport = \"many\"\n", ":3: lan.port: must be an integer, got string"),
            ("[lan]\nport = 70000\n", ":2: lan.port: 70000 is out of range 1…65535"),
            ("[lan]\nport = 0\n", ":2: lan.port: 0 is out of range 1…65535"),
            ("[lan]\nrepair_interval_ms = 100\n", ":2: lan.repair_interval_ms: 100 is out of range 500…60000"),
            ("[lan]\nbeacon_interval_ms = 99\n", ":2: lan.beacon_interval_ms: 99 is out of range 100…600000"),
            ("[lan]\ngroup = \"10.0.0.1\"\n", ":2: lan.group: '10.0.0.1' is not an IPv4 multicast address"),
            ("[lan]\ngroup = \"239.1.2\"\n", ":2: lan.group: '239.1.2' is not an IPv4 multicast address"),
            ("[lan]\ngroup = 239\n", ":2: lan.group: must be a string, got"),
            ("[lan]\ninterfaces = \"eth0\"\n", ":2: lan.interfaces: must be an array of interface names"),
            (
                "[lan]\ninterfaces = [\"eth0\", 3]\n",
                ":2: lan.interfaces: must be an array of interface names (strings)"
            ),
            ("[lan]\ninterfaces = [\"\"]\n", ":2: lan.interfaces: must be an array of interface names (strings)"),
            ("log_level = \"loud\"\n", ":1: log_level: 'loud' is not one of trace, debug, info"),
            (
                "[lan]\nmesh_name = \"squat\"\nmesh_passphrase = \"hunter2hunter2\"\n",
                ":3: lan.mesh_passphrase: is too easy to guess offline (about 22 bits; at least 50 needed)"
            ),
            (
                "[lan]\nmesh_passphrase = \"plum tractor eleven violet\"\n",
                ":2: lan.mesh_passphrase: a private mesh needs a name too: set lan.mesh_name"
            ),
            ("[lan]\nmesh_name = \"squat\"\n", ":2: lan.mesh_name: names a private mesh, but lan.mesh_passphrase"),
            ("[lan]\nmesh_name = \"\"\n", ":2: lan.mesh_name: must be 1 to 64 bytes"),
            ("[lan]\npeers = \"10.0.0.2:4545\"\n", ":2: lan.peers: must be an array of \"ip:port\" strings"),
            (
                "[lan]\npeers = [\"relay.example.org:4545\"]\n",
                ":2: lan.peers: 'relay.example.org:4545' is not an IPv4 address and port"
            ),
            ("[lan]\npeers = [\"10.0.0.2\"]\n", ":2: lan.peers: '10.0.0.2' is not an IPv4 address and port"),
            ("[lan]\npeers = [\"10.0.0.2:0\"]\n", ":2: lan.peers: '10.0.0.2:0' is not an IPv4 address and port"),
            ("[lan]\npeers = [4545]\n", ":2: lan.peers: must be an array of \"ip:port\" strings"),
            ("[lan]\nbroadcast = \"sometimes\"\n", ":2: lan.broadcast: must be \"auto\", \"on\" or \"off\""),
            ("[lan]\nport = 4545\nipv6 = \"only\"\n", ":3: lan.ipv6: must be \"auto\", \"on\" or \"off\""),
            ("[lan]\nipv6 = true\n", ":2: lan.ipv6:"),
            ("[api]\nmax_connections = 0\n", ":2: api.max_connections: 0 is out of range 1…1024"),
            ("[lan\nport = 1\n", ":1: TOML syntax error"),
            ("[relays]\nx = 1\n", ":1: [relays]: unknown section [relays]"),
            ("[store]\nmax_bytes = 1000\n", ":2: store.max_bytes: 1000 is out of range 1048576…1099511627776"),
            ("[inbox]\nmax_messages = 5\n", ":2: inbox.max_messages: 5 is out of range 100…10000000"),
            ("[inbox]\nretention_days = 0\n", ":2: inbox.retention_days: 0 is out of range 1…36500"),
            (
                "colour = \"red\"\n",
                ":1: colour: unknown key (top-level keys: data_dir, log_level; sections: [api], [inbox], [lan], [messages], [metrics], [relay], [store], [[relays]])"
            ),
            ("data_dir = \"\"\n", ":1: data_dir: must not be empty"),
            ("[api]\nsocket = \"\"\n", ":2: api.socket: must not be empty"),
            (
                "[api]\nsocket = \"/" + String(repeating: "s", count: 120) + "\"\n",
                ":2: api.socket: path is 121 bytes; a Unix socket path holds at most 107"
            ),
            ("[messages]\nlifetime_hours = 169\n", ":2: messages.lifetime_hours: 169 is out of range 1…168"),
            (
                "# comment\n\n[messages]\n# lifetime\nlifetime_hour = 24\n",
                ":5: messages.lifetime_hour: unknown key (known keys: accept_from, lifetime_hours, receipts)"
            ),
        ])
    func badConfig(text: String, expected: String) throws {
        let error = try #require(Self.error(text), "accepted: \(text)")
        #expect("\(error)".hasPrefix(Self.file + expected), "got: \(error)")
    }

    @Test("every key is read, and the socket follows data_dir unless it is set")
    func everyKey() throws {
        let text = """
            data_dir = "/srv/estafette"
            log_level = "debug"

            [lan]
            group = "239.1.2.3"
            port = 5000
            interfaces = ["eth0", "wlan0"]
            mesh_name = "assembly"
            mesh_passphrase = "correct horse battery staple"
            beacon_interval_ms = 250
            repair_interval_ms = 8000

            [messages]
            lifetime_hours = 24
            """
        let c = try NodeConfig.load(file: Self.file, text: text)
        #expect(c.dataDir == "/srv/estafette")
        #expect(c.socketPath == DefaultPaths.socketPath(dataDir: "/srv/estafette"))
        #expect(c.logLevel == "debug")
        #expect(c.lanGroup == "239.1.2.3")
        #expect(c.lanPort == 5000)
        #expect(c.lanInterfaces == ["eth0", "wlan0"])
        #expect(c.meshPassphrase == "correct horse battery staple")
        #expect(c.meshName == "assembly")
        #expect(c.beaconIntervalMillis == 250)
        #expect(c.repairIntervalMillis == 8000)
        #expect(c.messageLifetimeSeconds == 24 * 3600)
        let withSocket = try NodeConfig.load(file: Self.file, text: text + "\n[api]\nsocket = \"~/s.sock\"\n")
        #expect(withSocket.socketPath == DefaultPaths.home + "/s.sock")
    }

    @Test("static peers are read once each; broadcast defaults to auto")
    func lanPaths() throws {
        let c = try NodeConfig.load(
            file: Self.file,
            text: "[lan]\npeers = [\"10.0.0.2:4545\", \"192.168.1.7:5000\", \"10.0.0.2:4545\"]\nbroadcast = \"off\"\n")
        #expect(c.lanPeers == ["10.0.0.2:4545", "192.168.1.7:5000"])
        #expect(c.lanBroadcast == .off)
        #expect(NodeConfig().lanBroadcast == .auto && NodeConfig().lanPeers.isEmpty)
        #expect(NodeConfig().lanIPv6 == .auto)
        #expect(try NodeConfig.load(file: Self.file, text: "[lan]\nipv6 = \"off\"\n").lanIPv6 == .off)
        #expect(try NodeConfig.load(file: Self.file, text: "[lan]\nipv6 = \"on\"\n").lanIPv6 == .on)
        let many = (1...33).map { "\"10.0.0.\($0):4545\"" }.joined(separator: ", ")
        let error = try #require(Self.error("[lan]\npeers = [\(many)]\n"))
        #expect("\(error)".contains("lan.peers: at most 32 static peers"), "\(error)")
    }

    @Test("an empty file gives the built-in defaults")
    func emptyFile() throws {
        #expect(try NodeConfig.load(file: Self.file, text: "") == NodeConfig())
        #expect(try NodeConfig.load(file: Self.file, text: "# nothing\n\n[lan]\n") == NodeConfig())
    }

    @Test("the description never shows the mesh passphrase")
    func passphraseRedacted() throws {
        let c = try NodeConfig.load(
            file: Self.file, text: "[lan]\nmesh_name = \"m\"\nmesh_passphrase = \"plum tractor eleven violet\"\n")
        #expect(!"\(c)".contains("tractor"))
        #expect("\(c)".contains("private 'm' (redacted)"))
    }

    // MARK: - The shipped example, Config/estafette.toml

    static var example: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("Config/estafette.toml"), encoding: .utf8)
        }
    }

    @Test("the example config loads as shipped, and with every setting uncommented, to the documented defaults")
    func exampleConfig() throws {
        let text = try Self.example
        #expect(try NodeConfig.load(file: Self.file, text: text) == NodeConfig())
        // `#key = value` lines are the settings; uncomment them all.
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.range(of: #"^#[a-z_]+ = "#, options: .regularExpression) != nil ? line.dropFirst() : line
        }.joined(separator: "\n")
        let c = try NodeConfig.load(file: Self.file, text: uncommented)
        let defaults = NodeConfig()
        #expect(c.lanGroup == defaults.lanGroup)
        #expect(c.lanPort == defaults.lanPort)
        #expect(c.lanInterfaces == defaults.lanInterfaces)
        #expect(c.beaconIntervalMillis == defaults.beaconIntervalMillis)
        #expect(c.repairIntervalMillis == defaults.repairIntervalMillis)
        #expect(c.maxPeers == defaults.maxPeers)
        #expect(c.messageLifetimeSeconds == defaults.messageLifetimeSeconds)
        #expect(c.logLevel == defaults.logLevel)
        #expect(c.storeMaxBytes == defaults.storeMaxBytes && c.storeMaxBytes == 256 << 20)
        #expect(c.inboxMaxMessages == defaults.inboxMaxMessages && c.inboxMaxMessages == 10_000)
        #expect(
            defaults.inboxRetentionDays == nil && c.inboxRetentionDays == 30, "the example's value; no limit by default"
        )
    }

    @Test("the errors quoted in the example's header are the ones the loader gives, line numbers included")
    func exampleErrors() throws {
        let text = try Self.example
        // Each edit makes a mistake on one line of the file; the header must quote the loader's error for it.
        for (setting, mistake) in [
            ("#lifetime_hours = 168", "lifetime_hour = 24"), ("#port = 4545", "port = 70000"),
        ] {
            let broken = text.replacingOccurrences(of: setting, with: mistake)
            #expect(broken != text, "the example no longer has \(setting)")
            let error = try #require(Self.error(broken), "accepted: \(mistake)")
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == setting }
            #expect(error.line == line.map { $0 + 1 }, "the error names another line than the mistake's")
            #expect(
                text.contains("#   estafetted: configuration error: \(error)"),
                "the header should quote: estafetted: configuration error: \(error)")
        }
    }
}

@Suite("metrics.listen") struct MetricsListenTests {
    @Test("a port alone listens on loopback; host:port and [v6]:port are taken as given")
    func forms() {
        #expect(MetricsListen(parsing: "9464") == MetricsListen(host: "127.0.0.1", port: 9464))
        #expect(MetricsListen(parsing: "0.0.0.0:9464") == MetricsListen(host: "0.0.0.0", port: 9464))
        #expect(MetricsListen(parsing: "[::1]:9464") == MetricsListen(host: "::1", port: 9464))
        #expect(MetricsListen(parsing: "[::1]:9464")?.description == "[::1]:9464")
    }

    @Test("bad values are refused", arguments: ["", "0", "65536", "host:", ":9464", "::1:9464", "[::1]", "x:http"])
    func refused(text: String) {
        #expect(MetricsListen(parsing: text) == nil)
    }

    @Test("off unless set; a bad value names the line and key")
    func config() throws {
        #expect(try NodeConfig.load(file: "f", text: "").metricsListen == nil)
        #expect(try NodeConfig.load(file: "f", text: "[metrics]\nlisten = \"9464\"\n").metricsListen?.port == 9464)
        #expect(throws: ConfigError.self) { try NodeConfig.load(file: "f", text: "[metrics]\nlisten = 9464\n") }
        do {
            _ = try NodeConfig.load(file: "f", text: "[metrics]\n\nlisten = \"x\"\n")
            Issue.record("accepted a bad metrics.listen")
        } catch {
            #expect("\(error)".hasPrefix("f:3: metrics.listen: 'x' is not a port"))
        }
    }
}
