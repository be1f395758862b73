import CSodium
import EstafetteCore
import Foundation

/// Files that hold a secret (the identity seed, the data key): a header line and 64 hex digits, mode 0600.
///
/// Reading never copies the secret into ordinary memory: the file is read into a `sodium_malloc` region and
/// decoded from there into another. A file that group or others may read or write is refused (not tightened: a
/// key others could read may already have leaked, and the owner must decide), with the file and the reason.
public enum SecretFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The largest secret file accepted (a header line and one hex line, with room to spare).
    static let maxBytes = 256

    /// Refuses a data directory that is not a directory, or that group or others may read, write or enter.
    public static func checkDirectory(_ dir: String) throws(Failure) {
        var st = stat()
        guard stat(dir, &st) == 0 else { throw Failure(description: "\(dir): cannot stat: \(errnoString())") }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw Failure(description: "\(dir): not a directory") }
        guard st.st_mode & 0o077 == 0 else {
            throw Failure(
                description: "\(dir): the data directory is open to other users (mode "
                    + "\(String(st.st_mode & 0o777, radix: 8)), \(who(st.st_mode))); run chmod 700 on it")
        }
    }

    static func who(_ mode: mode_t) -> String {
        var parts: [String] = []
        if mode & 0o040 != 0 { parts.append("group can read") }
        if mode & 0o020 != 0 { parts.append("group can write") }
        if mode & 0o010 != 0 { parts.append("group can enter") }
        if mode & 0o004 != 0 { parts.append("others can read") }
        if mode & 0o002 != 0 { parts.append("others can write") }
        if mode & 0o001 != 0 { parts.append("others can enter") }
        return parts.joined(separator: ", ")
    }

    /// Reads the 32-byte secret of the file at `path` whose first line is `header`. `what` names the key in
    /// messages ("identity key", "data key").
    /// A file sealed with a passphrase (`KeySeal`) needs `passphrase`.
    public static func read(path: String, header: String, what: String, passphrase: SecretBytes? = nil)
        throws(Failure) -> SecretBytes
    {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw Failure(description: "\(path): cannot open the \(what): \(errnoString())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(description: "\(path): cannot stat: \(errnoString())") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path): not a regular file") }
        guard st.st_mode & 0o077 == 0 else {
            throw Failure(
                description: "\(path): the \(what) is readable or writable by others (mode "
                    + "\(String(st.st_mode & 0o777, radix: 8)), \(who(st.st_mode))); run chmod 600 on it")
        }
        guard st.st_size <= maxBytes else { throw Failure(description: "\(path): not an Estafette \(what) (too long)") }
        let raw = SecretBytes(count: maxBytes)
        let n = raw.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw Failure(description: "\(path): cannot read: \(errnoString())") }
        let sealedHead = Array((header + KeySeal.suffix).utf8) + [0x0A]
        if raw.withUnsafeBytes({ n >= sealedHead.count && $0.prefix(sealedHead.count).elementsEqual(sealedHead) }) {
            return try raw.withUnsafeBytes { r throws(Failure) in
                try KeySeal.unseal(
                    UnsafeRawBufferPointer(rebasing: r[0..<n]), header: header, path: path, what: what,
                    passphrase: passphrase)
            }
        }
        let head = Array(header.utf8) + [0x0A]
        let secret = SecretBytes(count: 32)
        let ok = raw.withUnsafeBytes { r -> Bool in
            guard n >= head.count + 64, r.prefix(head.count).elementsEqual(head) else { return false }
            return secret.withUnsafeMutableBytes { s -> Bool in
                for i in 0..<32 {
                    guard let hi = hexValue(r[head.count + 2 * i]), let lo = hexValue(r[head.count + 2 * i + 1])
                    else { return false }
                    s[i] = hi << 4 | lo
                }
                let rest = head.count + 64
                return n == rest || (n == rest + 1 && r[rest] == 0x0A)
            }
        }
        guard ok else {
            throw Failure(
                description: "\(path): not an Estafette \(what) (expected the line '\(header)', then 64 hex digits)")
        }
        return secret
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Writes `secret` as `header` and hex to a new file at `path` (never over an existing one): a temporary file,
    /// fsynced, renamed, and the directory fsynced. The hex text is built in guarded memory.
    public static func create(path: String, header: String, secret: SecretBytes, passphrase: SecretBytes? = nil)
        throws(Failure)
    {
        let content = try content(header: header, secret: secret, passphrase: passphrase)
        let tmp = path + ".tmp"
        try writeTemporary(tmp, content)
        // link(2) fails when `path` exists: a key is never replaced by a new one.
        guard link(tmp, path) == 0 else {
            let reason = errnoString()
            unlink(tmp)
            throw Failure(description: "\(path): cannot create: \(reason)")
        }
        unlink(tmp)
        fsyncDirectory(of: path)
    }

    /// Where a re-seal may be cut short, for the tests of an interrupted re-seal.
    public enum Interruption: Sendable { case none, beforeRename, beforeDirectorySync }

    /// Re-seals the key file at `path` under `new` (nil: plain), reading it with `old` (nil: plain). Atomic: the
    /// new content goes to `<path>.tmp`, is fsynced, renamed over `path`, and the directory fsynced; a power cut
    /// at any point leaves the old file or the new one, never neither (a stale `.tmp` is ignored and replaced).
    public static func reseal(
        path: String, header: String, what: String, old: SecretBytes?, new: SecretBytes?,
        interruption: Interruption = .none
    ) throws(Failure) {
        let secret = try read(path: path, header: header, what: what, passphrase: old)
        let content = try content(header: header, secret: secret, passphrase: new)
        let tmp = path + ".tmp"
        try writeTemporary(tmp, content)
        if interruption == .beforeRename { return }
        guard rename(tmp, path) == 0 else {
            let reason = errnoString()
            unlink(tmp)
            throw Failure(description: "\(path): cannot replace: \(reason)")
        }
        if interruption == .beforeDirectorySync { return }
        fsyncDirectory(of: path)
    }

    /// The file's bytes: plain hex built in guarded memory, or sealed (`KeySeal`: only ciphertext).
    static func content(header: String, secret: SecretBytes, passphrase: SecretBytes?) throws(Failure) -> SecretBytes {
        if let passphrase {
            return SecretBytes(copying: try KeySeal.seal(secret, header: header, passphrase: passphrase))
        }
        let head = Array(header.utf8) + [0x0A]
        let content = SecretBytes(count: head.count + 2 * secret.count + 1)
        let digits = Array("0123456789abcdef".utf8)
        content.withUnsafeMutableBytes { c in
            secret.withUnsafeBytes { s in
                for (i, b) in head.enumerated() { c[i] = b }
                for i in 0..<s.count {
                    c[head.count + 2 * i] = digits[Int(s[i] >> 4)]
                    c[head.count + 2 * i + 1] = digits[Int(s[i] & 0x0F)]
                }
                c[c.count - 1] = 0x0A
            }
        }
        return content
    }

    /// Writes `content` to a fresh `tmp` (a stale one is removed first), mode 0600, fsynced.
    static func writeTemporary(_ tmp: String, _ content: SecretBytes) throws(Failure) {
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "\(tmp): cannot create: \(errnoString())") }
        let n = content.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard n == content.count, synced else {
            unlink(tmp)
            throw Failure(description: "\(tmp): cannot write: \(errnoString())")
        }
    }
}

/// The data key file: 32 random bytes that seal, in the database, everything that names a person or holds a
/// message's text (Store+Sealed.swift). Mode 0600, created on first start, never replaced.
///
/// ```
/// estafette-data-key-v1
/// <64 hex digits>
/// ```
public enum DataKeyFile {
    public static let header = "estafette-data-key-v1"
    public static let fileName = "data.key"

    /// Loads the data key at `path`, creating it when the file does not exist. `created` tells which.
    public static func loadOrCreate(path: String, passphrase: SecretBytes? = nil) throws(SecretFile.Failure) -> (
        key: SecretBytes, created: Bool
    ) {
        var st = stat()
        if lstat(path, &st) == 0 {
            return (try SecretFile.read(path: path, header: header, what: "data key", passphrase: passphrase), false)
        }
        guard errno == ENOENT else {
            throw SecretFile.Failure(description: "\(path): cannot stat: \(errnoString())")
        }
        let key = AtRestKey.randomDataKey()
        try SecretFile.create(path: path, header: header, secret: key, passphrase: passphrase)
        return (key, true)
    }
}
