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

    /// The system service's locations (systemd's `StateDirectory=estafette`, `RuntimeDirectory=estafette`,
    /// `ConfigurationDirectory=estafette`).
    public enum System {
        public static let dataDir = "/var/lib/estafette"
        public static let socketPath = "/run/estafette/estafetted.sock"
        public static let configFile = "/etc/estafette/estafette.toml"
    }

    /// The first entry of a colon-separated directory list that systemd set for this service, if any.
    static func serviceDirectory(_ name: String) -> String? {
        guard let v = env(name) else { return nil }
        let first = v.split(separator: ":", omittingEmptySubsequences: true).first.map(String.init)
        guard let first, first.hasPrefix("/") else { return nil }
        return first
    }

    /// `$STATE_DIRECTORY` (set by systemd for the service), else `$XDG_DATA_HOME/estafette`, else
    /// `~/.local/share/estafette`.
    public static var dataDir: String {
        if let s = serviceDirectory("STATE_DIRECTORY") { return s }
        if let x = env("XDG_DATA_HOME") { return x + "/estafette" }
        return home + "/.local/share/estafette"
    }

    /// `$RUNTIME_DIRECTORY/estafetted.sock` (systemd), else `$XDG_RUNTIME_DIR/estafette/estafetted.sock`, else
    /// `<data dir>/estafetted.sock`.
    public static func socketPath(dataDir: String? = nil) -> String {
        if let r = serviceDirectory("RUNTIME_DIRECTORY") { return r + "/estafetted.sock" }
        if let x = env("XDG_RUNTIME_DIR") { return x + "/estafette/estafetted.sock" }
        return (dataDir ?? Self.dataDir) + "/estafetted.sock"
    }

    /// The configuration file the daemon reads without `--config`: `$CONFIGURATION_DIRECTORY/estafette.toml`
    /// under systemd, else none (the built-in defaults).
    public static var serviceConfigFile: String? {
        serviceDirectory("CONFIGURATION_DIRECTORY").map { $0 + "/estafette.toml" }
    }

    /// What the CLI uses: `--socket`, else `$ESTAFETTE_SOCKET`, else the user's daemon's socket when it exists,
    /// else the system service's socket when it exists, else the user's (whose absence the error then names).
    public static func clientSocketPath(explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let e = env("ESTAFETTE_SOCKET") { return e }
        let user = socketPath()
        if isSocket(user) { return user }
        // A socket there, or one this user may not even look at (not in group estafette): the system service's
        // socket, so that the error then says "permission denied" rather than naming the user's own path.
        if isSocket(System.socketPath) || errno == EACCES { return System.socketPath }
        return user
    }

    /// Whether `path` is a socket; on false, `errno` says why (ENOENT, EACCES, or 0 for another file type).
    static func isSocket(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        errno = 0
        return (st.st_mode & S_IFMT) == S_IFSOCK
    }
}
