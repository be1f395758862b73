import EstafetteCore
import EstafetteTestKit
import Foundation
import Testing

@testable import EstafetteNode

/// The panic wipe of a data directory (issue 10), timed on a store of 100,000 envelopes.
@Suite("Data wipe")
struct DataWipeTests {
    @Test("a data directory with 100,000 envelopes is wiped (the time is printed); nothing is left")
    func wipeLargeStore() async throws {
        try await withScratchDir("wipe") { dir in
            let identity = try IdentityFile.loadOrCreate(path: dir + "/identity.key").keys
            _ = try LinkKeyFile.loadOrCreate(path: dir + "/" + LinkKeyFile.fileName)
            do {
                let store = try Store(path: dir + "/estafette.sqlite")
                try store.addContact(name: "someone", key: Fixture.alice.publicKey.bytes)
                // 100,000 envelopes of 300 bytes (a direct message's smallest padded size), written by SQLite
                // itself, in ID order (fast to build): the wipe does not read them, only their size and number matter.
                try store.pool.write { db in
                    try db.execute(
                        sql: """
                            WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
                            INSERT INTO envelope (id, kind, expires_at, received_at, data, keep)
                            SELECT CAST(printf('%032d', x) AS BLOB), 2, ?, 1, randomblob(300), 0 FROM n
                            """, arguments: [Int64(Fixture.expiry)])
                }
                #expect(try store.envelopeCount() == 100_000)
            }
            let dataKey = try SecretFile.read(path: dir + "/data.key", header: DataKeyFile.header, what: "data key")
                .exposedCopy()
            let seed = identity.exportSeed()
            var st = stat()
            #expect(stat(dir + "/estafette.sqlite", &st) == 0)
            let dbBytes = Int(st.st_size)

            let t0 = DispatchTime.now().uptimeNanoseconds
            let report = DataWipe.run(dataDir: dir)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            print("wipe of 100,000 envelopes (database \(dbBytes / 1024) KiB): \(String(format: "%.3f", seconds)) s")
            #expect(report.failures.isEmpty, "\(report.failures)")
            // The figure (under a second here: docs/security.md) is printed above; this bound only catches a wipe
            // that rewrites the database instead of destroying the keys, without failing on a loaded machine.
            #expect(seconds < 10.0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
            #expect(dataKey.count == 32 && seed.count == 32)
        }
    }

    @Test("the key files are overwritten before they are unlinked: an open descriptor reads noise, not the key")
    func keysOverwritten() async throws {
        try await withScratchDir("wipe") { dir in
            let (key, _) = try DataKeyFile.loadOrCreate(path: dir + "/data.key")
            let hex = Array(key.exposedCopy().map { String(format: "%02x", $0) }.joined().utf8)
            let identity = try IdentityFile.loadOrCreate(path: dir + "/identity.key").keys
            let seedHex = Array(identity.exportSeed().map { String(format: "%02x", $0) }.joined().utf8)
            // Descriptors opened before the wipe still see the inode after the unlink: its bytes are what a
            // raw read of the disk would find there.
            let fds = [open(dir + "/data.key", O_RDONLY), open(dir + "/identity.key", O_RDONLY)]
            defer { for fd in fds { close(fd) } }
            #expect(fds.allSatisfy { $0 >= 0 })
            let report = DataWipe.run(dataDir: dir)
            #expect(report.failures.isEmpty)
            for (fd, needle) in zip(fds, [hex, seedHex]) {
                var buf = [UInt8](repeating: 0, count: 512)
                let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
                #expect(n >= 64)
                #expect(!holds(Array(buf.prefix(max(n, 0))), needle))
                #expect(!holds(Array(buf.prefix(max(n, 0))), Array("estafette-".utf8)))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
    }

    @Test(
        "on a loop-mounted ext4 image, after the wipe, the raw image holds neither key nor the message text",
        .enabled(if: getuid() == 0, "mounting a loop image needs root: skipped"))
    func ext4Image() async throws {
        try await withScratchDir("wipe-ext4") { dir in
            let img = dir + "/fs.img"
            let mnt = dir + "/mnt"
            try runChecked(
                "/usr/bin/dd", ["if=/dev/zero", "of=\(img)", "bs=1M", "count=16", "status=none"], timeout: 20)
            try runChecked("/usr/sbin/mkfs.ext4", ["-q", "-F", img], timeout: 20)
            #expect(mkdir(mnt, 0o700) == 0)
            try runChecked("/usr/bin/mount", ["-o", "loop", img, mnt], timeout: 20)
            var mounted = true
            defer { if mounted { _ = try? runCommand("/usr/bin/umount", [mnt], timeout: 20) } }
            let data = mnt + "/data"
            #expect(mkdir(data, 0o700) == 0)
            let text = "the list of names is under the floorboard"
            let (key, _) = try DataKeyFile.loadOrCreate(path: data + "/data.key")
            let identity = try IdentityFile.loadOrCreate(path: data + "/identity.key").keys
            do {
                let store = try Store(path: data + "/estafette.sqlite", dataKey: key)
                let (e, m) = try Fixture.direct(text, from: Fixture.alice, to: Fixture.bob)
                _ = try store.commit([(e, m, 1)])
                try store.addContact(name: "Ilse Varga", key: Fixture.alice.publicKey.bytes)
            }
            let hex = { (b: [UInt8]) in Array(b.map { String(format: "%02x", $0) }.joined().utf8) }
            let needles: [(String, [UInt8])] = [
                ("data key (hex)", hex(key.exposedCopy())), ("data key (raw)", key.exposedCopy()),
                ("identity seed (hex)", hex(identity.exportSeed())), ("identity seed (raw)", identity.exportSeed()),
                ("text", Array(text.utf8)), ("contact name", Array("Ilse Varga".utf8)),
            ]
            sync()
            let before = try rawBytes(img)
            #expect(holds(before, needles[0].1), "the image holds the data key before the wipe")
            #expect(holds(before, needles[2].1), "the image holds the seed before the wipe")
            #expect(DataWipe.run(dataDir: data).failures.isEmpty)
            try runChecked("/usr/bin/umount", [mnt], timeout: 20)
            mounted = false
            let after = try rawBytes(img)
            for (what, needle) in needles {
                #expect(!holds(after, needle), "\(what) found in the raw ext4 image after the wipe")
            }
        }
    }
}
