import Testing

@testable import EstafetteNode

@Suite("Config file parsing")
struct NodeConfigTests {
    /// Each of these aborted the daemon in toml++'s key parser (an assertion) before it was checked first;
    /// found by the `config` fuzz target (Fuzz/corpus/config/crash-header-*).
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
            #expect(error.reason.contains("table header"))
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
            mesh_passphrase = \"\"\"
            [*not a header*]
            \"\"\"
            """
        let config = try NodeConfig.load(file: "c.toml", text: text)
        #expect(config.dataDir == "/var/lib/estafette [=]")
        #expect(config.lanInterfaces == ["eth0", "[=]"])
        #expect(config.meshPassphrase == "[*not a header*]\n")
    }

    @Test("valid headers still load", arguments: ["[lan]\n", "[ lan ]\n", "[\"lan\"]\n", "[[lan]]\n", "[\tapi]\n"])
    func goodHeaders(text: String) {
        // Not a header error: either loads or fails for another reason (an array of tables is not a section).
        do {
            _ = try NodeConfig.load(file: "c.toml", text: text)
        } catch {
            #expect(!error.reason.contains("table header"), "\(error)")
        }
    }
}
