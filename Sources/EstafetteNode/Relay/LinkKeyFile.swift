import EstafetteCore
import Foundation

/// The link key file: the node's X25519 key pair for relay links (docs/relays.md), separate from the messaging
/// identity so that a relay never learns whose messages a node holds. The 32-byte secret, hex-encoded after a
/// header line, mode 0600:
///
/// ```
/// estafette-link-key-v1
/// <64 hex digits>
/// ```
/// Created on first start (never overwritten): written to a temporary file, fsynced and renamed. Unlike the
/// identity file, a link key readable by others is refused, not tightened: the daemon stops and says why.
public enum LinkKeyFile {
    static let header = "estafette-link-key-v1"
    /// The file's name in the data directory.
    public static let fileName = "link.key"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads the link key at `path`, creating it when the file does not exist. `created` tells which.
    public static func loadOrCreate(path: String) throws(Failure) -> (keys: NoiseKeyPair, created: Bool) {
        var st = stat()
        if lstat(path, &st) == 0 {
            return (try load(path: path), false)
        }
        guard errno == ENOENT else { throw Failure(description: "\(path): cannot stat: \(errnoString())") }
        let keys = try create(path: path)
        return (keys, true)
    }

    static func load(path: String) throws(Failure) -> NoiseKeyPair {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw Failure(description: "\(path): cannot open the link key: \(errnoString())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(description: "\(path): cannot stat: \(errnoString())") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path): not a regular file") }
        guard st.st_mode & 0o077 == 0 else {
            throw Failure(
                description: "\(path): the link key is readable or writable by others (mode "
                    + "\(String(st.st_mode & 0o777, radix: 8))); run chmod 600 on it, or delete it to make a new one")
        }
        guard st.st_size <= 256 else { throw Failure(description: "\(path): not an Estafette link key (too long)") }
        var raw = [UInt8](repeating: 0, count: 256)
        let n = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw Failure(description: "\(path): cannot read: \(errnoString())") }
        defer { for i in raw.indices { raw[i] = 0 } }
        let lines = raw[0..<n].split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 2, lines[0] == header else {
            throw Failure(description: "\(path): not an Estafette link key (first line must be '\(header)')")
        }
        guard var secret = IdentityFile.hexBytes(lines[1]), secret.count == 32 else {
            throw Failure(description: "\(path): line 2 must hold 64 hex digits")
        }
        defer { for i in secret.indices { secret[i] = 0 } }
        do {
            return try NoiseKeyPair(secretKey: SecretBytes(copying: secret))
        } catch {
            throw Failure(description: "\(path): cannot derive the public key: \(error)")
        }
    }

    static func create(path: String) throws(Failure) -> NoiseKeyPair {
        var secret = Sodium.randomBytes(32)
        defer { for i in secret.indices { secret[i] = 0 } }
        let keys: NoiseKeyPair
        do {
            keys = try NoiseKeyPair(secretKey: SecretBytes(copying: secret))
        } catch {
            throw Failure(description: "cannot make a link key: \(error)")
        }
        let tmp = path + ".tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "\(tmp): cannot create: \(errnoString())") }
        var content =
            Array("\(header)\n".utf8) + Array(secret.map { String(format: "%02x", $0) }.joined().utf8) + [0x0A]
        defer { for i in content.indices { content[i] = 0 } }
        let n = content.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard n == content.count, synced else {
            unlink(tmp)
            throw Failure(description: "\(tmp): cannot write the link key: \(errnoString())")
        }
        // link(2) instead of rename: it fails if the file appeared meanwhile, so a key is never overwritten.
        guard Foundation.link(tmp, path) == 0 else {
            let reason = errnoString()
            unlink(tmp)
            throw Failure(description: "\(path): cannot create: \(reason)")
        }
        unlink(tmp)
        fsyncDirectory(of: path)
        return keys
    }
}

extension NoiseKeyPair {
    /// The public key as `identity.show` and `allow_link_keys` write it: 64 lowercase hex digits.
    public var publicKeyHex: String { publicKey.map { String(format: "%02x", $0) }.joined() }
}
