import EstafetteCore
import Foundation

/// Panic wipe of a data directory: crypto-erase first, then everything else.
///
/// 1. The key files (the data key, the identity key, the relay link key, and any temporary copy of one) are
///    overwritten with random bytes, fsynced and unlinked. Without the data key the sealed columns of the
///    database are noise, whatever copy of them flash storage keeps; without the identity key no message to
///    this identity can be opened.
/// 2. The directory is fsynced, so the unlinks are durable before anything else is touched.
/// 3. Every other entry of the directory is removed (the database, its WAL and shm, the lock, …), and the
///    directory fsynced again. The directory itself stays, empty (systemd's StateDirectory= owns it).
public enum DataWipe {
    /// The key files, destroyed first, in this order.
    public static let keyFiles = [DataKeyFile.fileName, "identity.key", LinkKeyFile.fileName]

    public struct Report: Sendable {
        public var files: Int
        public var failures: [String]
    }

    public static func run(dataDir dir: String) -> Report {
        var report = Report(files: 0, failures: [])
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let keys =
            keyFiles + entries.filter { name in keyFiles.contains { name.hasPrefix($0) } && !keyFiles.contains(name) }
        for name in keys {
            let path = dir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if let failure = destroy(path, size: Int(st.st_size)) { report.failures.append(failure) }
            report.files += 1
        }
        fsyncDirectory(dir)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            do {
                try FileManager.default.removeItem(atPath: dir + "/" + name)
                report.files += 1
            } catch {
                report.failures.append("\(dir)/\(name): \(error.localizedDescription)")
            }
        }
        fsyncDirectory(dir)
        return report
    }

    /// Overwrites a regular file with random bytes, fsyncs it, unlinks it. Returns what failed, if anything
    /// (the file is unlinked even so).
    static func destroy(_ path: String, size: Int) -> String? {
        defer { unlink(path) }
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return "\(path): cannot open to overwrite: \(errnoString())" }
        defer { close(fd) }
        let noise = Sodium.randomBytes(max(size, 64))
        let n = noise.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard n == noise.count else { return "\(path): cannot overwrite: \(errnoString())" }
        guard fsync(fd) == 0 else { return "\(path): cannot fsync: \(errnoString())" }
        return nil
    }

    static func fsyncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
