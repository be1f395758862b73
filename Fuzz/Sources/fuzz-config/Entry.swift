import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    FuzzSeeds.writeIfAsked(seeds)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ConfigFuzz.run(FuzzInput(data, size).bytes)
    return 0
}

func seeds() -> [(name: String, bytes: [UInt8])] {
    let files: [(String, String)] = [
        (
            "full",
            """
            data_dir = "~/estafette"
            log_level = "debug"

            [api]
            socket = "/run/estafette/api.sock"

            [lan]
            group = "239.192.45.45"
            port = 4545
            interfaces = ["eth0", "wlan0"]
            mesh_passphrase = "correct horse battery"
            beacon_interval_ms = 1000
            repair_interval_ms = 4000

            [messages]
            lifetime_hours = 168
            """
        ),
        ("empty", ""),
        ("comment", "# nothing set\n"),
        ("unknown-key", "[lan]\nprot = 4545\n"),
        ("unknown-section", "[relay]\nport = 1\n"),
        ("out-of-range", "[lan]\nport = 70000\n"),
        ("wrong-type", "[lan]\nport = \"4545\"\ninterfaces = [1, 2]\n"),
        ("syntax", "[lan\nport = = 1\n"),
        ("inline-table", "lan = { port = 4545, group = \"239.1.2.3\" }\n"),
        ("dotted", "lan.port = 4546\nmessages.lifetime_hours = 1\n"),
        ("array-of-tables", "[[lan]]\nport = 1\n[[lan]]\nport = 2\n"),
        ("strings", "data_dir = '''\nmulti\nline'''\nlog_level = \"\\u00e9\"\n"),
        ("datetime", "data_dir = 1979-05-27T07:32:00Z\n[lan]\nport = 0x1F\nbeacon_interval_ms = 1_000\n"),
    ]
    return files.map { ($0.0, Array($0.1.utf8)) }
}
