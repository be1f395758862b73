import EstafetteCore
import Foundation

/// The identity key file: the 32-byte Ed25519 seed, hex-encoded after a header line, mode 0600.
///
/// ```
/// estafette-identity-v1
/// <64 hex digits>
/// ```
/// Created on first start (never overwritten): written to a temporary file, fsynced and linked into place
/// (`SecretFile`). A file that group or others may read or write is refused, with the reason; the seed is read
/// into guarded memory only.
public enum IdentityFile {
    public static let header = "estafette-identity-v1"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads the identity at `path`, creating it when the file does not exist. `created` tells which.
    public static func loadOrCreate(path: String, passphrase: SecretBytes? = nil) throws -> (
        keys: SigningKeyPair, created: Bool
    ) {
        if FileManager.default.fileExists(atPath: path) {
            return (try load(path: path, passphrase: passphrase), false)
        }
        let keys = SigningKeyPair.generate()
        try write(keys, to: path, passphrase: passphrase)
        return (keys, true)
    }

    static func load(path: String, passphrase: SecretBytes? = nil) throws -> SigningKeyPair {
        let secret: SecretBytes
        do {
            secret = try SecretFile.read(path: path, header: header, what: "identity key", passphrase: passphrase)
        } catch {
            throw Failure(description: error.description)
        }
        do {
            return try SigningKeyPair(seed: secret)
        } catch {
            throw Failure(description: "\(path): cannot derive keys from the stored seed: \(error)")
        }
    }

    static func write(_ keys: SigningKeyPair, to path: String, passphrase: SecretBytes? = nil) throws {
        do {
            try SecretFile.create(path: path, header: header, secret: keys.guardedSeed, passphrase: passphrase)
        } catch {
            throw Failure(description: error.description)
        }
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
