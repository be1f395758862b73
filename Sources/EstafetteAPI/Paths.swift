#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Default locations shared by the daemon and the CLI, following the XDG base directory spec.
public enum DefaultPaths {
    static func env(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    public static var home: String {
        if let h = env("HOME") { return h }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/tmp"
    }

    /// `$XDG_DATA_HOME/estafette`, else `~/.local/share/estafette`.
    public static var dataDir: String {
        if let x = env("XDG_DATA_HOME") { return x + "/estafette" }
        return home + "/.local/share/estafette"
    }

    /// `$XDG_RUNTIME_DIR/estafette/estafetted.sock`; without XDG_RUNTIME_DIR, `<data dir>/estafetted.sock`.
    public static func socketPath(dataDir: String? = nil) -> String {
        if let x = env("XDG_RUNTIME_DIR") { return x + "/estafette/estafetted.sock" }
        return (dataDir ?? Self.dataDir) + "/estafetted.sock"
    }

    /// What the CLI uses: `--socket`, else `$ESTAFETTE_SOCKET`, else the default.
    public static func clientSocketPath(explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let e = env("ESTAFETTE_SOCKET") { return e }
        return socketPath()
    }
}
