import EstafetteNode
import Foundation
import FuzzSupport

/// Fuzz target `config`: TOML text into `NodeConfig.load(file:text:)`, the daemon's config parser (toml++
/// through TOMLKit, then the key and range checks).
///
/// Checks: a loaded config holds values within the documented ranges; an error names a line of the file
/// (when it names one) and says why; the config's description never shows the mesh passphrase.
enum ConfigFuzz {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        // Lines as a text editor counts them ("\r\n" is one Character in Swift: count bytes).
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        do {
            let c = try NodeConfig.load(file: "fuzz.toml", text: text)
            fuzzCheck(!c.dataDir.isEmpty && !c.socketPath.isEmpty, "empty path in \(c)")
            fuzzCheck((1...65535).contains(c.lanPort), "port \(c.lanPort)")
            fuzzCheck((100...600_000).contains(c.beaconIntervalMillis), "beacon interval \(c.beaconIntervalMillis)")
            fuzzCheck((500...60_000).contains(c.repairIntervalMillis), "repair interval \(c.repairIntervalMillis)")
            fuzzCheck((3600...168 * 3600).contains(c.messageLifetimeSeconds), "lifetime \(c.messageLifetimeSeconds)")
            fuzzCheck(c.lanGroup.split(separator: ".").count == 4, "group \(c.lanGroup)")
            fuzzCheck(!c.lanInterfaces.contains(""), "empty interface name")
            if let p = c.meshPassphrase {
                fuzzCheck(p.utf8.count >= 8, "short passphrase accepted")
                let shown = [c.dataDir, c.socketPath, c.lanGroup] + c.lanInterfaces
                if !shown.contains(where: { $0.contains(p) }) {
                    fuzzCheck(!c.description.contains(p), "the description shows the mesh passphrase")
                }
            }
        } catch {
            fuzzCheck(!error.reason.isEmpty, "error without a reason")
            if let line = error.line {
                fuzzCheck((1...lines.count).contains(line), "error at line \(line) of \(lines.count)")
                // A key's error points at the line that sets it.
                if let key = error.key, line <= lines.count {
                    let name = key.split(separator: ".").last.map { $0.trimmingCharacters(in: ["[", "]"]) } ?? ""
                    fuzzCheck(lines[line - 1].contains(name), "error for \(key) at line \(line): \(lines[line - 1])")
                }
            }
            fuzzCheck(error.description.hasPrefix("fuzz.toml"), "error does not name the file: \(error)")
        }
    }
}
