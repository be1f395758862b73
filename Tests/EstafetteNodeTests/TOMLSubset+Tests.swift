import Foundation
import Testing

@testable import EstafetteNode

@Suite("Config text outside the TOML subset (found by fuzzing)")
struct TOMLSubsetTests {
    /// Each of these aborted the daemon in toml++'s key parser (an assertion) before the text was checked
    /// first; found by the `config` fuzz target (Fuzz/corpus/config/crash-header-*).
    @Test(
        "a table header that does not start with a key is a syntax error on its line",
        arguments: [
            ("[=]\n", 1), ("[.lan]\nport = 1\n", 1), ("[é]\n", 1), ("data_dir = \"/x\"\n[\u{1}-lan\n", 2),
            ("# c\n[ {]\n", 2), ("[[=]]\n", 1), ("[[ +]]\n", 1), ("[[[lan]]]\n", 1), ("[\nport = 1\n", 1),
            ("\u{FEFF}[#]\n", 1), ("a = 1 # it's\n[lan]\n[=]\n", 3), ("x = \"\"\"\n\"\"\"\n[,]\n", 3),
        ])
    func badHeader(text: String, line: Int) {
        #expect(throws: ConfigError.self) { try NodeConfig.load(file: "c.toml", text: text) }
        do {
            _ = try NodeConfig.load(file: "c.toml", text: text)
        } catch {
            #expect(error.line == line)
            #expect(error.reason.hasPrefix("TOML syntax error: expected a key"), "\(error)")
        }
    }

    /// Found by the `config` fuzz target (Fuzz/corpus/config/crash-empty-key): an empty quoted key was reported as
    /// an unknown key with no line, or with the line of text inside a multi-line string that looked like it.
    @Test(
        "an empty quoted key is a syntax error on its own line",
        arguments: [
            ("\"\" = 1\n", 1), ("'' = 1\n", 1), ("[lan]\n\"\" = 1\n", 2), ("a.\"\" = 1\n", 1),
            ("\"\" = \"\"\"\n = 1\n\"\"\"\n", 1),
        ])
    func emptyKey(text: String, line: Int) {
        do {
            _ = try NodeConfig.load(file: "c.toml", text: text)
            Issue.record("accepted an empty key: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason == "TOML syntax error: a key cannot be empty", "\(error)")
        }
    }

    @Test("brackets inside strings, comments and multi-line arrays are not headers")
    func notHeaders() throws {
        let text = """
            # [=] in a comment
            data_dir = "/var/lib/estafette [=]"

            [lan]
            interfaces = [
              "eth0", # [=]
              '[=]',
            ]
            mesh_name = "[=] squat"
            mesh_passphrase = \"\"\"
            [*not a header*] plum tractor eleven violet
            \"\"\"
            """
        let config = try NodeConfig.load(file: "c.toml", text: text)
        #expect(config.dataDir == "/var/lib/estafette [=]")
        #expect(config.lanInterfaces == ["eth0", "[=]"])
        #expect(config.meshPassphrase == "[*not a header*] plum tractor eleven violet\n")
        #expect(config.meshName == "[=] squat")
    }

    /// A date-time with a non-digit after the `T` aborted the daemon in toml++'s time parser; no setting takes
    /// a date, a time or a float, so none reaches toml++ (Fuzz/corpus/config/crash-datetime-*).
    @Test(
        "dates, times and floats are refused before toml++ parses them",
        arguments: [
            ("data_dir = 1979-05-27T{7:32:00Z\n", 1), ("[lan]\nport = 1979-05-27\n", 2), ("log_level = 07:32:00\n", 1),
            ("[lan]\nport = 1.5\n", 2), ("[lan]\nport = inf\n", 2), ("[lan]\nport = 1e3\n", 2),
            ("[lan]\ninterfaces = [\n  \"eth0\",\n  1979-05-27T07:32:00Z,\n]\n", 4),
        ])
    func unsupportedValues(text: String, line: Int) {
        do {
            _ = try NodeConfig.load(file: "c.toml", text: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.hasPrefix("TOML syntax error"), "\(error)")
        }
    }

    /// toml++ reads a C string: it would stop at the NUL and load less than the file holds.
    @Test(
        "a NUL byte anywhere is refused on its line",
        arguments: [("\u{0}", 1), ("[lan]\nport = 1\u{0}\n", 2), ("# a\n# b\n\u{0}[lan]\n", 3), ("x = \"a\u{0}b\"\n", 1)])
    func nulByte(text: String, line: Int) {
        do {
            _ = try NodeConfig.load(file: "c.toml", text: text)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.reason.contains("NUL byte"), "\(error)")
        }
    }

    @Test("integers in every TOML form still load")
    func integers() throws {
        let text = "[lan]\nport = 0x11C1\nbeacon_interval_ms = +1_000\nrepair_interval_ms = 0o7640\n"
        let config = try NodeConfig.load(file: "c.toml", text: text)
        #expect(config.lanPort == 4545)
        #expect(config.beaconIntervalMillis == 1000)
        #expect(config.repairIntervalMillis == 4000)
    }

    @Test("the shipped Config/estafette.toml loads, with every setting uncommented")
    func shippedConfig() throws {
        let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/Config/estafette.toml"
        let shipped = try String(contentsOfFile: "/" + path, encoding: .utf8)
        // "#key = value" lines are the settings; "# text" lines are prose.
        let uncommented = shipped.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("#") && !line.hasPrefix("# ") && line.contains(" = ") ? line.dropFirst() : line
        }.joined(separator: "\n")
        #expect(uncommented != shipped)
        let config = try NodeConfig.load(file: "estafette.toml", text: uncommented)
        #expect(config.lanPort == 4545)
        #expect(config.meshPassphrase == "correct horse battery staple")
        #expect(try NodeConfig.load(file: "estafette.toml", text: shipped) == NodeConfig())
    }

    @Test("valid headers still load", arguments: ["[lan]\n", "[ lan ]\n", "[\"lan\"]\n", "[[lan]]\n", "[\tapi]\n"])
    func goodHeaders(text: String) {
        // Not a header error: either loads or fails for another reason (an array of tables is not a section).
        do {
            _ = try NodeConfig.load(file: "c.toml", text: text)
        } catch {
            #expect(!error.reason.contains("TOML syntax error"), "\(error)")
        }
    }
}
