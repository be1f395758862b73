import EstafetteTestKit
import Foundation
import Testing

/// What only the daemon process can show: its exit status and message for a bad start, and the modes of the files
/// it creates. Every config rule itself is tested in process (EstafetteNodeTests, `NodeConfig+Tests.swift`).
@Suite("Daemon start-up errors")
struct DaemonConfigTests {
    @Test("a bad config stops the daemon with the file, line, key and reason (exit 78) and creates nothing")
    func badConfig() async throws {
        let dir = try makeScratchDir("config")
        defer { removeScratchDir(dir) }
        let file = dir + "/bad.toml"
        try "[lan]\nport = 70000\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try await runDaemonToExit(["--config", file, "--data-dir", dir + "/data"])
        #expect(status == 78, "output: \(output)")
        #expect(
            output.contains("estafetted: configuration error: \(file):2: lan.port: 70000 is out of range 1…65535"),
            "output: \(output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/data"), "nothing is created for a bad config")
    }

    @Test("a missing config file and an unknown interface are reported clearly")
    func missingFileAndInterface() async throws {
        let dir = try makeScratchDir("config")
        defer { removeScratchDir(dir) }
        let missing = try await runDaemonToExit(["--config", dir + "/nope.toml"])
        #expect(missing.status == 78)
        #expect(missing.output.contains(dir + "/nope.toml: cannot read the file: No such file or directory"))
        let iface = try await runDaemonToExit([
            "--data-dir", dir + "/data", "--socket", dir + "/s", "--interface", "nosuchif0",
        ])
        #expect(iface.status == 78, "output: \(iface.output)")
        #expect(iface.output.contains("no network interface named 'nosuchif0'"), "output: \(iface.output)")
    }

    @Test(
        "the identity key file is created with mode 0600 and the data directory 0700",
        .enabled(if: Loopback.multicastReady, "multicast is off on lo and this test is not root"))
    func secretFileModes() async throws {
        let root = try makeScratchDir("modes")
        defer { removeScratchDir(root) }
        let (group, port) = randomGroupAndPort()
        let d = try Daemon.forTest("m", root: root, group: group, port: port)
        try await withDaemons([d]) {
            try await d.start()
            func mode(_ path: String) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
            }
            #expect(try mode(d.dataDir) == 0o700)
            #expect(try mode(d.dataDir + "/identity.key") == 0o600)
            #expect(try mode(d.dataDir + "/estafette.sqlite") == 0o600)
            #expect(try mode(d.socket) == 0o660)
            let log = try String(contentsOfFile: d.logPath, encoding: .utf8)
            let seed = try String(contentsOfFile: d.dataDir + "/identity.key", encoding: .utf8).split(separator: "\n")[
                1]
            #expect(!log.contains(seed), "the secret seed must never reach the log")
            await d.stopCleanly()
        }
    }
}
