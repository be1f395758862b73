import EstafetteCore
import Foundation

/// The identity key file: the 32-byte Ed25519 seed, hex-encoded after a header line, mode 0600.
///
/// ```
/// estafette-identity-v1
/// <64 hex digits>
/// ```
/// Created on first start with O_EXCL (never overwritten), written to a temporary file, fsynced and renamed.
public enum IdentityFile {
    static let header = "estafette-identity-v1"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads the identity at `path`, creating it when the file does not exist. `created` tells which.
    public static func loadOrCreate(path: String) throws -> (keys: SigningKeyPair, created: Bool) {
        if FileManager.default.fileExists(atPath: path) {
            return (try load(path: path), false)
        }
        let keys = SigningKeyPair.generate()
        try write(keys, to: path)
        return (keys, true)
    }

    static func load(path: String) throws -> SigningKeyPair {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Failure(description: "\(path): cannot stat: \(errnoString())") }
        if st.st_mode & 0o077 != 0 {
            // Tighten rather than refuse: the key may already have leaked, but keep it from leaking further.
            guard chmod(path, 0o600) == 0 else {
                throw Failure(description: "\(path): identity file is readable by others and chmod failed")
            }
        }
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else { throw Failure(description: "\(path): cannot read identity file") }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.count >= 2, lines[0] == header else {
            throw Failure(description: "\(path): not an Estafette identity file (first line must be '\(header)')")
        }
        guard let seed = hexBytes(lines[1]), seed.count == 32 else {
            throw Failure(description: "\(path): line 2 must hold 64 hex digits")
        }
        let secret = SecretBytes(copying: seed)
        do {
            return try SigningKeyPair(seed: secret)
        } catch {
            throw Failure(description: "\(path): cannot derive keys from the stored seed: \(error)")
        }
    }

    static func write(_ keys: SigningKeyPair, to path: String) throws {
        let tmp = path + ".tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Failure(description: "\(tmp): cannot create: \(errnoString())") }
        let seed = keys.exportSeed()
        let hex = seed.map { String(format: "%02x", $0) }.joined()
        let content = Array("\(header)\n\(hex)\n".utf8)
        let n = content.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard n == content.count, synced else {
            unlink(tmp)
            throw Failure(description: "\(tmp): cannot write identity: \(errnoString())")
        }
        guard rename(tmp, path) == 0 else { throw Failure(description: "\(path): cannot rename: \(errnoString())") }
        fsyncDirectory(of: path)
    }

    static func hexBytes(_ s: String) -> [UInt8]? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < chars.count {
            guard let b = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            i += 2
        }
        return out
    }
}

func errnoString() -> String { String(cString: strerror(errno)) }

func fsyncDirectory(of path: String) {
    let dir = (path as NSString).deletingLastPathComponent
    let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
}
