import CSodium
import EstafetteCore
import Foundation

/// Passphrase sealing of a key file (issue 10): Argon2id (`crypto_pwhash`) turns the passphrase and a random salt
/// into a key that seals the 32-byte secret with XChaCha20-Poly1305, the file's header line as associated data
/// (a sealed identity file cannot pass for a data key file). The sealed form:
///
/// ```
/// <header> argon2id
/// <hex: salt (16) ‖ opslimit (u32, big-endian) ‖ memlimit in KiB (u32, big-endian) ‖ nonce (24) ‖ sealed (48)>
/// ```
/// The parameters are in the file, so they can change without breaking old files; reading bounds them.
public enum KeySeal {
    /// Argon2id passes and memory for new seals: what a Raspberry Pi 4 affords once per start under the unit's
    /// `MemoryMax=256M` (docs/security.md has the measured cost).
    public static let opsLimit: UInt32 = 3
    public static let memLimitKiB: UInt32 = 64 * 1024
    static let suffix = " argon2id"
    static let saltBytes = 16
    static let blobBytes = 16 + 4 + 4 + 24 + 32 + 16

    /// The longest passphrase read (bytes).
    public static let maxPassphraseBytes = 1024

    /// Reads a passphrase from a file descriptor into guarded memory (at most `maxPassphraseBytes`, up to EOF),
    /// without the trailing newline. Empty is refused.
    public static func readPassphrase(fd: Int32, source: String) throws(SecretFile.Failure) -> SecretBytes {
        let buf = SecretBytes(count: maxPassphraseBytes + 1)
        var n = 0
        while n < buf.count {
            let r = buf.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + n, $0.count - n) }
            if r < 0 && errno == EINTR { continue }
            guard r >= 0 else {
                throw SecretFile.Failure(description: "\(source): cannot read the passphrase: \(errnoString())")
            }
            if r == 0 { break }
            n += r
        }
        guard n <= maxPassphraseBytes else {
            throw SecretFile.Failure(
                description: "\(source): the passphrase is longer than \(maxPassphraseBytes) bytes")
        }
        return try line(buf, count: n, source: source)
    }

    /// The first `count` bytes of `buf` without a trailing newline (`\n`, `\r\n`), into guarded memory of their
    /// own size. Empty is refused.
    static func line(_ buf: SecretBytes, count n: Int, source: String) throws(SecretFile.Failure) -> SecretBytes {
        var len = n
        buf.withUnsafeBytes { b in
            if len > 0 && b[len - 1] == 0x0A { len -= 1 }
            if len > 0 && b[len - 1] == 0x0D { len -= 1 }
        }
        guard len > 0 else { throw SecretFile.Failure(description: "\(source): the passphrase is empty") }
        let out = SecretBytes(count: len)
        out.withUnsafeMutableBytes { o in
            buf.withUnsafeBytes { b in o.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[0..<len])) }
        }
        return out
    }

    /// Whether the key file at `path` (first line `header`) is sealed with a passphrase. False when it is missing
    /// or unreadable: reading it later says why.
    public static func isSealed(path: String, header: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let head = Array((header + suffix).utf8) + [0x0A]
        var got = [UInt8](repeating: 0, count: head.count)
        let n = got.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        return n == head.count && got == head
    }

    /// Asks for the passphrase on the controlling terminal (`/dev/tty`) with echo off, and reads one line into
    /// guarded memory. Nil when the process has no terminal.
    public static func promptOnTerminal(_ prompt: String) throws(SecretFile.Failure) -> SecretBytes? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        quiet.c_lflag |= tcflag_t(ICANON)
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else {
            throw SecretFile.Failure(description: "/dev/tty: cannot turn echo off: \(errnoString())")
        }
        defer {
            _ = tcsetattr(fd, TCSAFLUSH, &saved)
            _ = Foundation.write(fd, "\n", 1)
        }
        _ = prompt.utf8CString.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress, $0.count - 1) }
        // One line, byte by byte: nothing of it passes through ordinary memory.
        let buf = SecretBytes(count: maxPassphraseBytes + 1)
        var n = 0
        var ended = false
        while n < buf.count {
            let r = buf.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + n, 1) }
            if r < 0 && errno == EINTR { continue }
            guard r >= 0 else {
                throw SecretFile.Failure(description: "/dev/tty: cannot read the passphrase: \(errnoString())")
            }
            if r == 0 { break }
            if buf.withUnsafeBytes({ $0[n] }) == 0x0A {
                ended = true
                break
            }
            n += 1
        }
        guard ended || n <= maxPassphraseBytes else {
            throw SecretFile.Failure(description: "/dev/tty: the passphrase is longer than \(maxPassphraseBytes) bytes")
        }
        return try line(buf, count: n, source: "/dev/tty")
    }

    /// Reads the passphrase in the file at `path` (a systemd credential).
    public static func readPassphrase(path: String) throws(SecretFile.Failure) -> SecretBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SecretFile.Failure(description: "\(path): cannot open: \(errnoString())") }
        defer { close(fd) }
        return try readPassphrase(fd: fd, source: path)
    }

    static func deriveKey(
        _ passphrase: SecretBytes, salt: [UInt8], opsLimit: UInt32, memLimitKiB: UInt32
    ) -> SecretBytes? {
        precondition(Sodium.ready, "libsodium failed to initialise")
        let key = SecretBytes(count: 32)
        let rc = key.withUnsafeMutableBytes { k in
            passphrase.withUnsafeBytes { p in
                crypto_pwhash(
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
                    p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count), salt, UInt64(opsLimit),
                    Int(memLimitKiB) * 1024, crypto_pwhash_alg_argon2id13())
            }
        }
        return rc == 0 ? key : nil
    }

    /// The sealed file content for `secret` (32 bytes) under `header`.
    static func seal(_ secret: SecretBytes, header: String, passphrase: SecretBytes) throws(SecretFile.Failure)
        -> [UInt8]
    {
        let salt = Sodium.randomBytes(saltBytes)
        guard let key = deriveKey(passphrase, salt: salt, opsLimit: opsLimit, memLimitKiB: memLimitKiB) else {
            throw SecretFile.Failure(description: "Argon2id failed (out of memory?)")
        }
        let nonce = Sodium.randomBytes(24)
        var sealed = [UInt8](repeating: 0, count: secret.count + 16)
        let ad = Array((header + suffix).utf8)
        let rc = key.withUnsafeBytes { k in
            secret.withUnsafeBytes { s in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    &sealed, nil, s.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(s.count), ad,
                    UInt64(ad.count), nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw SecretFile.Failure(description: "XChaCha20-Poly1305 failed") }
        var blob = salt
        withUnsafeBytes(of: opsLimit.bigEndian) { blob += $0 }
        withUnsafeBytes(of: memLimitKiB.bigEndian) { blob += $0 }
        blob += nonce + sealed
        let hex = blob.map { String(format: "%02x", $0) }.joined()
        return Array("\(header)\(suffix)\n\(hex)\n".utf8)
    }

    /// Opens the sealed content `raw[0..<n]` (already known to start with `header + suffix + "\n"`).
    static func unseal(
        _ raw: UnsafeRawBufferPointer, header: String, path: String, what: String, passphrase: SecretBytes?
    ) throws(SecretFile.Failure) -> SecretBytes {
        guard let passphrase else {
            throw SecretFile.Failure(
                description: "\(path): the \(what) is sealed with a passphrase; give it with --passphrase-fd N "
                    + "or in $CREDENTIALS_DIRECTORY/passphrase")
        }
        let start = header.utf8.count + suffix.utf8.count + 1
        let hexLine = Array(raw[start...].prefix { $0 != 0x0A })
        guard hexLine.count == 2 * blobBytes, let blob = IdentityFile.hexBytes(String(decoding: hexLine, as: UTF8.self))
        else {
            throw SecretFile.Failure(description: "\(path): a sealed \(what) must hold \(2 * blobBytes) hex digits")
        }
        let salt = Array(blob[0..<16])
        let ops = blob[16..<20].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let mem = blob[20..<24].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        // Bounds: a file cannot make the daemon spend more than 1 GiB or 10 passes.
        guard (1...10).contains(ops), (8...1024 * 1024).contains(mem) else {
            throw SecretFile.Failure(description: "\(path): the \(what)'s Argon2id parameters are out of bounds")
        }
        let nonce = Array(blob[24..<48])
        let sealed = Array(blob[48...])
        guard let key = deriveKey(passphrase, salt: salt, opsLimit: ops, memLimitKiB: mem) else {
            throw SecretFile.Failure(description: "\(path): Argon2id failed (out of memory?)")
        }
        let secret = SecretBytes(count: 32)
        let ad = Array((header + suffix).utf8)
        let rc = secret.withUnsafeMutableBytes { s in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    s.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, nil, sealed, UInt64(sealed.count), ad,
                    UInt64(ad.count), nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else {
            throw SecretFile.Failure(description: "\(path): wrong passphrase for the \(what) (nothing was changed)")
        }
        return secret
    }
}
