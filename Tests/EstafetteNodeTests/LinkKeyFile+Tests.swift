import EstafetteCore
import Foundation
import Testing

@testable import EstafetteNode

/// The relay link key file: created once with mode 0600, read back the same, refused when others may read it.
@Suite("Link key file")
struct LinkKeyFileTests {
    @Test("created on first start with mode 0600 and a header; the same key is read back; never the identity's")
    func createThenLoad() async throws {
        try await withScratchDir("linkkey") { dir in
            let path = dir + "/link.key"
            let (first, created) = try LinkKeyFile.loadOrCreate(path: path)
            #expect(created)
            #expect(try mode(of: path) == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix("estafette-link-key-v1\n"))
            #expect(text.split(separator: "\n")[1].count == 64)
            let (again, createdAgain) = try LinkKeyFile.loadOrCreate(path: path)
            #expect(!createdAgain)
            #expect(again.publicKey == first.publicKey)
            #expect(first.publicKeyHex.count == 64)
            #expect(first.publicKeyHex == first.publicKey.map { String(format: "%02x", $0) }.joined())
            // Not the messaging identity's X25519 key.
            #expect(first.publicKey != Fixture.alice.boxPublicKey.bytes)
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        }
    }

    @Test(
        "a link key readable or writable by others stops the daemon with the reason", arguments: [0o640, 0o604, 0o620])
    func refusedWhenOpen(bits: Int) async throws {
        try await withScratchDir("linkkey") { dir in
            let path = dir + "/link.key"
            _ = try LinkKeyFile.loadOrCreate(path: path)
            #expect(chmod(path, mode_t(bits)) == 0)
            let error = #expect(throws: LinkKeyFile.Failure.self) { try LinkKeyFile.loadOrCreate(path: path) }
            #expect(error?.description.contains("readable or writable by others") == true)
            #expect(error?.description.contains("chmod 600") == true)
            // Left as it was: the operator decides.
            #expect(try mode(of: path) == bits)
        }
    }

    @Test(
        "a damaged link key file is refused, not replaced",
        arguments: [
            "", "estafette-identity-v1\n" + String(repeating: "ab", count: 32) + "\n",
            "estafette-link-key-v1\n" + String(repeating: "ab", count: 31) + "\n",
            "estafette-link-key-v1\n" + String(repeating: "zz", count: 32) + "\n",
            "estafette-link-key-v1\n" + String(repeating: "a", count: 300) + "\n",
        ])
    func damaged(content: String) async throws {
        try await withScratchDir("linkkey") { (dir: String) async throws -> Void in
            let path = dir + "/link.key"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            #expect(fd >= 0)
            _ = Array(content.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            #expect(throws: LinkKeyFile.Failure.self) { try LinkKeyFile.loadOrCreate(path: path) }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == content)
        }
    }
}
