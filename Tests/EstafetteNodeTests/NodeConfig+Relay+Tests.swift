import EstafetteCore
import EstafetteNode
import Foundation
import Testing

/// `[relay]` and `[[relays]]`: every value read, every bad one refused with its line, key and reason.
@Suite("NodeConfig relay keys")
struct NodeConfigRelayTests {
    static let file = "/etc/estafette/estafette.toml"
    static let relayID = PublicID(key: SigningKeyPair.deterministic(7).publicKey).description
    static let keyHex = String(repeating: "0f", count: 32)

    static func error(_ text: String) -> ConfigError? {
        do {
            _ = try NodeConfig.load(file: file, text: text)
            return nil
        } catch {
            return error
        }
    }

    @Test("every relay key is read")
    func everyKey() throws {
        let text = """
            [relay]
            enabled = true
            listen = "[::]:7000"
            max_bytes = 10_485_760
            allow_link_keys = ["\(Self.keyHex)", "\(Self.keyHex.uppercased())"]

            [[relays]]
            address = "relay.example.org:4546"
            id = "\(Self.relayID)"

            [[relays]]
            address = "10.0.0.2:4600"
            id = "\(Self.relayID.uppercased())"
            """
        let c = try NodeConfig.load(file: Self.file, text: text)
        #expect(c.relay.enabled)
        #expect(c.relay.listen == HostPort("[::]:7000"))
        #expect(c.relay.listen.host == "::" && c.relay.listen.port == 7000)
        #expect(c.relay.maxBytes == 10_485_760)
        #expect(c.relay.allowLinkKeys == [[UInt8](repeating: 0x0f, count: 32)], "duplicates (any case) count once")
        #expect(c.relays.map(\.address.description) == ["relay.example.org:4546", "10.0.0.2:4600"])
        #expect(c.relays.map(\.id.description) == [Self.relayID, Self.relayID])
    }

    @Test("the defaults: relay off, listening on 0.0.0.0:4546 when on, 1 GiB, anyone may link, no relays")
    func defaults() {
        let c = NodeConfig()
        #expect(!c.relay.enabled)
        #expect(c.relay.listen.description == "0.0.0.0:4546")
        #expect(c.relay.maxBytes == 1 << 30)
        #expect(c.relay.allowLinkKeys.isEmpty)
        #expect(c.relays.isEmpty)
    }

    @Test(
        "a bad relay value is refused with the file, line, key and reason",
        arguments: [
            ("[relay]\nenabled = 1\n", ":2: relay.enabled: must be true or false, got integer"),
            ("[relay]\nenable = true\n", ":2: relay.enable: unknown key (known keys: allow_link_keys, enabled, listen"),
            ("[relay]\nlisten = 4546\n", ":2: relay.listen: must be a string \"host:port\""),
            ("[relay]\n\nlisten = \"0.0.0.0\"\n", ":3: relay.listen: '0.0.0.0' is not host:port"),
            ("[relay]\nlisten = \"0.0.0.0:0\"\n", ":2: relay.listen: '0.0.0.0:0' is not host:port"),
            ("[relay]\nlisten = \"0.0.0.0:65536\"\n", ":2: relay.listen: '0.0.0.0:65536' is not host:port"),
            ("[relay]\nlisten = \":4546\"\n", ":2: relay.listen: ':4546' is not host:port"),
            ("[relay]\nlisten = \"::1:4546\"\n", ":2: relay.listen: '::1:4546' is not host:port"),
            ("[relay]\nlisten = \"[::1]4546\"\n", ":2: relay.listen: '[::1]4546' is not host:port"),
            ("[relay]\nlisten = \"a b:1\"\n", ":2: relay.listen: 'a b:1' is not host:port"),
            ("[relay]\nmax_bytes = \"1G\"\n", ":2: relay.max_bytes: must be an integer (bytes), got string"),
            ("[relay]\nmax_bytes = 1000\n", ":2: relay.max_bytes: 1000 is out of range 1048576…"),
            ("[relay]\nmax_bytes = -1\n", ":2: relay.max_bytes: -1 is out of range"),
            ("[relay]\nallow_link_keys = \"ab\"\n", ":2: relay.allow_link_keys: must be an array of link keys"),
            ("[relay]\nallow_link_keys = [1]\n", ":2: relay.allow_link_keys: must be an array of link keys"),
            ("[relay]\nallow_link_keys = [\"abcd\"]\n", ":2: relay.allow_link_keys: 'abcd' is not a link key"),
            (
                "[relay]\nallow_link_keys = [\"" + String(repeating: "g", count: 64) + "\"]\n",
                ":2: relay.allow_link_keys: 'gggg"
            ),
            ("[[relays]]\naddress = \"r:1\"\n", ":1: relays[0]: missing id = \"es1…\""),
            ("[[relays]]\nid = \"\(relayID)\"\n", ":1: relays[0]: missing address = \"host:port\""),
            ("[[relays]]\naddress = \"r\"\nid = \"\(relayID)\"\n", ":2: relays[0].address: 'r' is not host:port"),
            ("[[relays]]\naddress = 7\nid = \"\(relayID)\"\n", ":2: relays[0].address: 'integer' is not host:port"),
            ("[[relays]]\naddress = \"r:1\"\nid = \"es1abc\"\n", ":3: relays[0].id: 'es1abc'"),
            ("[[relays]]\naddress = \"r:1\"\nid = 5\n", ":3: relays[0].id: must be a string \"es1…\""),
            (
                "[[relays]]\naddress = \"r:1\"\nid = \"\(relayID)\"\nport = 3\n",
                ":4: relays[0].port: unknown key (known keys: address, id)"
            ),
            (
                "[[relays]]\naddress = \"r:1\"\nid = \"\(relayID)\"\n\n[[relays]]\naddress = \"r:1\"\nid = \"\(relayID)\"\n",
                ":6: relays[1].address: r:1 is listed twice"
            ),
            ("relays = [\"r:1\"]\n", ": relays[0]: must be a table with address and id"),
            ("relays = 3\n", ":1: relays: must be a list of [[relays]] tables"),
        ])
    func badRelayConfig(text: String, expected: String) throws {
        let error = try #require(Self.error(text), "accepted: \(text)")
        #expect("\(error)".hasPrefix(Self.file + expected), "got: \(error)")
    }

    @Test("host:port parsing: names, IPv4, bracketed IPv6; the text form round-trips")
    func hostPort() {
        for good in ["relay.example.org:4546", "10.0.0.1:1", "[::1]:65535", "[fe80::1]:80", "localhost:4546"] {
            #expect(HostPort(good)?.description == good, "\(good)")
        }
        for bad in ["", ":", "host:", "host:x", "host:-1", "[::1]", "[]:1", "-a:1", "host:123456", "[zz]:1"] {
            #expect(HostPort(bad) == nil, "\(bad)")
        }
    }

    @Test("the example config documents every relay key: uncommented, they give the defaults; the example relay loads")
    func exampleConfig() throws {
        let text = try NodeConfigTests.example
        for key in RelaySettingsKeys.all {
            #expect(text.contains("\n#\(key) = "), "Config/estafette.toml does not show relay.\(key)")
        }
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.range(of: #"^#[a-z_]+ = "#, options: .regularExpression) != nil ? line.dropFirst() : line
        }.joined(separator: "\n")
        let c = try NodeConfig.load(file: Self.file, text: uncommented)
        #expect(c.relay == RelaySettings())
        #expect(c.relays.isEmpty)
        // The commented [[relays]] example, with its "# " removed, is a valid relay.
        let withRelay = text.replacingOccurrences(of: "\n# [[relays]]", with: "\n[[relays]]")
            .replacingOccurrences(of: "\n# address = ", with: "\naddress = ")
            .replacingOccurrences(of: "\n# id = ", with: "\nid = ")
        let r = try NodeConfig.load(file: Self.file, text: withRelay)
        #expect(r.relays.map(\.address.description) == ["relay.example.org:4546"])
    }
}

enum RelaySettingsKeys {
    static let all = ["enabled", "listen", "max_bytes", "allow_link_keys"]
}
