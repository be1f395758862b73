import EstafetteAPI
import EstafetteTestKit
import Foundation
import Testing

@testable import estafette

/// The invite's QR code as the terminal shows it, read back from the half blocks and decoded by a real decoder
/// (zbarimg, from Debian's zbar-tools).
@Suite struct QRCodeTests {
    static let invite =
        "estafette:invite?v=1&id=es1vl4iagofhuegxnrtys5bpc6hzem566kr2il3mdguixdy2wcuqvjtt2twai"
        + "&name=Zo%C3%A9%20M.&relay=192.0.2.1%3A7300&relay=relay.example.org%3A7300&c=5a0c41d2"

    /// zbarimg's path: found, else (as root) installed, else nil.
    static let zbarimg: String? = {
        let path = "/usr/bin/zbarimg"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        guard getuid() == 0 else { return nil }
        _ = try? runCommand(
            "/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "zbar-tools"],
            timeout: 300)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    @Test func halfBlocksRoundTripToTheModules() throws {
        let code = try QRCode(encoding: Self.invite)
        let n = code.modules.count
        #expect(n >= 21 && (n - 21) % 4 == 0, "a QR code is 21 + 4k modules wide")
        for dark in [true, false] {
            let lines = code.terminalLines(darkBackground: dark)
            #expect(lines.count == (n + 2 * QRCode.quietZone + 1) / 2)
            let read = try #require(QRCode.modules(fromTerminal: lines, darkBackground: dark))
            let q = QRCode.quietZone
            #expect(read.count == n + 2 * q)
            #expect(read.allSatisfy { $0.count == n + 2 * q })
            #expect(read[q..<(q + n)].map { Array($0[q..<(q + n)]) } == code.modules)
            #expect(read.prefix(q).allSatisfy { $0.allSatisfy { !$0 } }, "a light quiet zone above")
            #expect(read.suffix(q).allSatisfy { $0.allSatisfy { !$0 } }, "a light quiet zone below")
        }
    }

    @Test(
        .enabled(
            if: zbarimg != nil,
            "zbarimg is missing and this is not root: install zbar-tools (scripts/install-deps.sh --tests)"))
    func terminalCodeDecodesWithZbar() throws {
        let zbarimg = try #require(Self.zbarimg)
        let dir = try makeScratchDir("qr")
        defer { removeScratchDir(dir) }
        for dark in [true, false] {
            // Exactly what `estafette invite` prints: the line, a blank line, the code.
            let printed = try Estafette.Invite.describe(InviteInfo(invite: Self.invite), qr: true, darkBackground: dark)
            let lines = printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines[0] == Self.invite)
            #expect(lines[1] == "")
            let modules = try #require(QRCode.modules(fromTerminal: Array(lines.dropFirst(2)), darkBackground: dark))
            let path = dir + "/invite-\(dark ? "dark" : "light").pbm"
            try QRCode.pbm(modules).write(toFile: path, atomically: true, encoding: .utf8)
            let result = try runCommand(zbarimg, ["--raw", "-q", "--nodbus", path], timeout: 20)
            #expect(result.exitCode == 0, "zbarimg: \(result.output)")
            // The output mixes in stderr (runCommand): keep the decoded symbols, one per line.
            let decoded = result.output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("estafette:") }
            #expect(decoded == [Self.invite], "zbarimg: \(result.output)")
        }
    }

    @Test func damagedTerminalOutputIsNoCode() {
        #expect(QRCode.modules(fromTerminal: ["█x▀"]) == nil)
    }
}
