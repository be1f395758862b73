import Foundation
import Testing

/// Runs `estafetted` with arguments and returns its exit status and stderr (it must exit by itself).
func runDaemonToExit(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Build.daemon)
    p.arguments = arguments
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Daemon start-up errors")
struct DaemonConfigTests {
    static func write(_ text: String) throws -> (dir: String, file: String) {
        let dir = try makeScratchDir("config")
        let file = dir + "/bad.toml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (dir, file)
    }

    @Test(
        "a bad config stops the daemon with the file, line, key and reason (exit 78)",
        arguments: [
            ("[lan]\nport = 4545\nprot = 1\n", ":3: lan.prot: unknown key"),
            ("[lan]\n\nport = \"many\"\n", ":3: lan.port: must be an integer"),
            ("[lan]\nport = 70000\n", ":2: lan.port: 70000 is out of range 1…65535"),
            ("[lan]\nrepair_interval_ms = 100\n", ":2: lan.repair_interval_ms: 100 is out of range 500…60000"),
            ("[lan]\ngroup = \"10.0.0.1\"\n", ":2: lan.group: '10.0.0.1' is not an IPv4 multicast address"),
            ("log_level = \"loud\"\n", ":1: log_level: 'loud' is not one of"),
            ("[lan]\nmesh_passphrase = \"short\"\n", ":2: lan.mesh_passphrase: must be at least 8 characters"),
            ("[lan\nport = 1\n", ":1: TOML syntax error"),
            ("[relay]\nx = 1\n", ":1: [relay]: unknown section [relay]"),
        ])
    func badConfig(text: String, expected: String) throws {
        let (dir, file) = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (status, stderr) = try runDaemonToExit(["--config", file, "--data-dir", dir + "/data"])
        #expect(status == 78, "stderr: \(stderr)")
        #expect(stderr.contains(file + expected), "stderr: \(stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/data"), "nothing is created for a bad config")
    }

    @Test("a missing config file and an unknown interface are reported clearly")
    func missingFileAndInterface() throws {
        let dir = try makeScratchDir("config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try runDaemonToExit(["--config", dir + "/nope.toml"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains(dir + "/nope.toml: cannot read the file: No such file or directory"))
        let iface = try runDaemonToExit([
            "--data-dir", dir + "/data", "--socket", dir + "/s", "--interface", "nosuchif0",
        ])
        #expect(iface.status == 78, "stderr: \(iface.stderr)")
        #expect(iface.stderr.contains("no network interface named 'nosuchif0'"), "stderr: \(iface.stderr)")
    }

    @Test(
        "the identity key file is created with mode 0600 and the data directory 0700",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"))
    func secretFileModes() async throws {
        let root = try makeScratchDir("modes")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (group, port) = randomGroupAndPort()
        let d = try Daemon(name: "m", root: root, group: group, port: port, interface: "lo")
        try await d.start()
        let data = d.dir + "/data"
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
        }
        #expect(try mode(data) == 0o700)
        #expect(try mode(data + "/identity.key") == 0o600)
        #expect(try mode(data + "/estafette.sqlite") == 0o600)
        #expect(try mode(d.socket) == 0o660)
        let log = try String(contentsOfFile: d.logPath, encoding: .utf8)
        let seed = try String(contentsOfFile: data + "/identity.key", encoding: .utf8).split(separator: "\n")[1]
        #expect(!log.contains(seed), "the secret seed must never reach the log")
        try await d.stop()
    }
}
