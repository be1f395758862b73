import EstafetteCore
import Foundation
import GRDB

/// Envelope bundle files (docs/protocol.md, "Envelope bundles"): written from the store atomically (temporary
/// file, fsync, rename, mode 0600), read back in bounded chunks. Importing goes through the node
/// (`NodeShell.importBundle`), never straight into the store.
public enum BundleFile {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public enum Kind: Sendable { case file, bundle }
        public let kind: Kind
        public let description: String
    }

    static let chunkBytes = 64 * 1024

    /// Writes the unexpired envelopes received at or after `since` (Unix seconds) to `path`.
    public static func export(
        from store: Store, to path: String, since: Int64?, now: Millis
    ) throws(Failure) -> (envelopes: Int, bytes: Int) {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.estafette-export-\(Sodium.randomUInt64()).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(kind: .file, description: "cannot create \(tmp): \(errnoString())") }
        var closed = false
        defer {
            if !closed {
                close(fd)
                unlink(tmp)
            }
        }
        var writer = EnvelopeBundle.Writer()
        var out: [UInt8] = writer.start()
        out.reserveCapacity(chunkBytes * 2)
        func flush() throws(Failure) {
            var done = 0
            while done < out.count {
                let n = out[done...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw Failure(kind: .file, description: "cannot write \(tmp): \(errnoString())") }
                done += n
            }
            out.removeAll(keepingCapacity: true)
        }
        do {
            var failure: Failure? = nil
            try store.forEachEnvelopeForExport(since: since, now: now) { bytes in
                guard failure == nil else { return false }
                guard writer.bytes + 4 + bytes.count + EnvelopeBundle.trailerBytes <= EnvelopeBundle.maxBundleBytes
                else {
                    failure = Failure(
                        kind: .file,
                        description: "the bundle would pass \(EnvelopeBundle.maxBundleBytes) bytes; export with --since"
                    )
                    return false
                }
                out += writer.append(bytes)
                if out.count >= chunkBytes {
                    do throws(Failure) { try flush() } catch { failure = error }
                }
                return failure == nil
            }
            if let failure { throw failure }
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure(kind: .file, description: "cannot read the store: \(error)")
        }
        out += writer.finish()
        try flush()
        guard fsync(fd) == 0 else { throw Failure(kind: .file, description: "cannot fsync \(tmp): \(errnoString())") }
        close(fd)
        closed = true
        guard rename(tmp, path) == 0 else {
            let reason = errnoString()
            unlink(tmp)
            throw Failure(kind: .file, description: "cannot rename the bundle to \(path): \(reason)")
        }
        fsyncDirectory(of: path)
        return (Int(writer.count), writer.bytes)
    }

    /// Reads the bundle at `path`, calling `body` with batches of envelopes; checks the whole bundle (framing,
    /// count, checksum) before the last call returns normally. With `body` doing nothing, it is the check pass.
    public static func read(
        _ path: String, batch: Int = 512, _ body: ([[UInt8]]) async throws(Failure) -> Void
    ) async throws(Failure) -> UInt64 {
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused as not a file).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw Failure(kind: .file, description: "cannot open \(path): \(errnoString())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(kind: .file, description: "cannot stat \(path)") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw Failure(kind: .file, description: "\(path) is not a file") }
        guard st.st_size <= EnvelopeBundle.maxBundleBytes else {
            throw Failure(
                kind: .bundle, description: BundleError.tooLarge(limit: EnvelopeBundle.maxBundleBytes).description)
        }
        var reader = EnvelopeBundle.Reader()
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        var pending: [[UInt8]] = []
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw Failure(kind: .file, description: "cannot read \(path): \(errnoString())") }
            if n == 0 { break }
            do {
                pending += try reader.feed(chunk[0..<n])
            } catch {
                throw Failure(kind: .bundle, description: "\(path): \(error)")
            }
            if pending.count >= batch {
                try await body(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        do {
            try reader.finish()
        } catch {
            throw Failure(kind: .bundle, description: "\(path): \(error)")
        }
        if !pending.isEmpty { try await body(pending) }
        return reader.count
    }
}

extension Store {
    /// Streams the encoded bytes of unexpired envelopes received at or after `since`, until `body` returns false.
    func forEachEnvelopeForExport(since: Int64?, now: Millis, _ body: ([UInt8]) -> Bool) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT data FROM envelope WHERE expires_at > ? AND received_at >= ? ORDER BY received_at",
                arguments: [now / 1000, since ?? 0])
            while let row = try rows.next() {
                let data: Data = row["data"]
                guard !data.isEmpty, data.count <= EnvelopeBundle.maxRecordBytes else { continue }
                if !body(Array(data)) { return }
            }
        }
    }
}
