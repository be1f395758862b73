import EstafetteCore
import EstafetteTestKit
import Foundation
import Testing

@testable import EstafetteNode

/// Passphrase-sealed key files (issue 10): Argon2id + XChaCha20-Poly1305, the passphrase sources, a wrong
/// passphrase, an interrupted re-seal.
@Suite("Key seal")
struct KeySealTests {
    static func pass(_ s: String) -> SecretBytes { SecretBytes(copying: Array(s.utf8)) }

    static func hex(_ b: [UInt8]) -> [UInt8] { Array(b.map { String(format: "%02x", $0) }.joined().utf8) }

    @Test("a sealed key reads back with its passphrase; a wrong or missing one is refused and changes nothing")
    func sealAndOpen() async throws {
        try await withScratchDir("keyseal") { dir in
            let path = dir + "/data.key"
            let t0 = DispatchTime.now().uptimeNanoseconds
            let (key, created) = try DataKeyFile.loadOrCreate(path: path, passphrase: Self.pass("correct horse"))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            print(
                "Argon2id (\(KeySeal.opsLimit) passes, \(KeySeal.memLimitKiB / 1024) MiB) + seal: "
                    + String(format: "%.3f", seconds) + " s")
            #expect(created)
            let before = try rawBytes(path)
            #expect(!rawSearch(before, for: Self.hex(key.exposedCopy())), "the sealed file holds no key hex")
            #expect(!rawSearch(before, for: key.exposedCopy()))
            #expect(try mode(of: path) == 0o600)
            let again = try DataKeyFile.loadOrCreate(path: path, passphrase: Self.pass("correct horse")).key
            #expect(again.exposedCopy() == key.exposedCopy())

            var message = ""
            do { _ = try DataKeyFile.loadOrCreate(path: path, passphrase: Self.pass("wrong horse")) } catch {
                message = "\(error)"
            }
            #expect(message.contains(path) && message.contains("wrong passphrase"), "\(message)")
            message = ""
            do { _ = try DataKeyFile.loadOrCreate(path: path) } catch { message = "\(error)" }
            #expect(message.contains("sealed with a passphrase") && message.contains("--passphrase-fd"), "\(message)")
            #expect(try rawBytes(path) == before, "a failed read changes nothing")

            // A sealed identity file cannot pass for a data key file (the header is bound).
            let identity = dir + "/identity.key"
            _ = try IdentityFile.loadOrCreate(path: identity, passphrase: Self.pass("correct horse"))
            let text = try String(contentsOfFile: identity, encoding: .utf8)
            let forged = text.replacingOccurrences(of: IdentityFile.header, with: DataKeyFile.header)
            let other = dir + "/other.key"
            #expect(
                FileManager.default.createFile(
                    atPath: other, contents: Data(forged.utf8), attributes: [.posixPermissions: 0o600]))
            message = ""
            do { _ = try DataKeyFile.loadOrCreate(path: other, passphrase: Self.pass("correct horse")) } catch {
                message = "\(error)"
            }
            #expect(message.contains("wrong passphrase"), "\(message)")
        }
    }

    @Test("an interrupted re-seal leaves the old file or the new one, never neither; the next re-seal completes")
    func interruptedReseal() async throws {
        try await withScratchDir("keyseal") { dir in
            let path = dir + "/identity.key"
            let keys = try IdentityFile.loadOrCreate(path: path).keys
            let seed = keys.exportSeed()
            let read = { (p: SecretBytes?) in
                try SecretFile.read(path: path, header: IdentityFile.header, what: "identity key", passphrase: p)
                    .exposedCopy()
            }
            // Set, cut between the fsynced temporary file and the rename: the old (plain) file is intact.
            try SecretFile.reseal(
                path: path, header: IdentityFile.header, what: "identity key", old: nil, new: Self.pass("one"),
                interruption: .beforeRename)
            #expect(FileManager.default.fileExists(atPath: path + ".tmp"))
            #expect(try read(nil) == seed)
            // Done again, in full: the stale temporary file is replaced, the new one opens, the old form is gone.
            try SecretFile.reseal(
                path: path, header: IdentityFile.header, what: "identity key", old: nil, new: Self.pass("one"))
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
            #expect(try read(Self.pass("one")) == seed)
            #expect(throws: SecretFile.Failure.self) { try read(nil) }
            #expect(!rawSearch(try rawBytes(path), for: Self.hex(seed)))
            // Change, cut after the rename and before the directory's fsync: the new file is in place.
            try SecretFile.reseal(
                path: path, header: IdentityFile.header, what: "identity key", old: Self.pass("one"),
                new: Self.pass("two"), interruption: .beforeDirectorySync)
            #expect(try read(Self.pass("two")) == seed)
            // A wrong current passphrase changes nothing.
            let before = try rawBytes(path)
            #expect(throws: SecretFile.Failure.self) {
                try SecretFile.reseal(
                    path: path, header: IdentityFile.header, what: "identity key", old: Self.pass("one"), new: nil)
            }
            #expect(try rawBytes(path) == before)
            // Remove.
            try SecretFile.reseal(
                path: path, header: IdentityFile.header, what: "identity key", old: Self.pass("two"), new: nil)
            #expect(try read(nil) == seed)
        }
    }

    @Test("the passphrase is read from a descriptor or a credential file, without its newline; empty is refused")
    func passphraseSources() async throws {
        try await withScratchDir("keyseal") { dir in
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            let text = Array("pass phrase\n".utf8)
            #expect(text.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) } == text.count)
            close(fds[1])
            let p = try KeySeal.readPassphrase(fd: fds[0], source: "test")
            close(fds[0])
            #expect(p.exposedCopy() == Array("pass phrase".utf8))
            let file = dir + "/passphrase"
            try "from systemd\r\n".write(toFile: file, atomically: false, encoding: .utf8)
            #expect(try KeySeal.readPassphrase(path: file).exposedCopy() == Array("from systemd".utf8))
            try "\n".write(toFile: file, atomically: false, encoding: .utf8)
            #expect(throws: SecretFile.Failure.self) { try KeySeal.readPassphrase(path: file) }
        }
    }
}
