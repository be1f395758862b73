import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Output

/// Prints `name: value unit` lines, flushed at once (stdout may be a pipe to `tee`).
enum Out {
    static func line(_ name: String, _ value: String, _ unit: String = "") {
        write(unit.isEmpty ? "\(name): \(value)" : "\(name): \(value) \(unit)")
    }

    /// One line to stdout, unbuffered (a pipe to `tee` shows it at once; nothing is lost if the run dies).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func value(_ name: String, _ v: Double, _ unit: String, digits: Int = 1) {
        line(name, fmt(v, digits), unit)
    }

    static func int(_ name: String, _ v: Int, _ unit: String = "") {
        line(name, String(v), unit)
    }

    /// A note for the reader (not a figure): `# ...`.
    static func note(_ text: String) {
        write("# \(text)")
    }

    /// Progress on stderr, so stdout holds only figures and notes.
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data("… \(text)\n".utf8))
    }

    static func section(_ title: String) {
        write("")
        write("## \(title)")
    }
}

func fmt(_ v: Double, _ digits: Int = 1) -> String {
    guard v.isFinite else { return "n/a" }
    return String(format: "%.\(digits)f", v)
}

func mib(_ bytes: Int) -> Double { Double(bytes) / (1024 * 1024) }

// MARK: - Statistics

func median(_ xs: [Double]) -> Double {
    percentile(xs.sorted(), 50)
}

/// Nearest-rank percentile of an already sorted array.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

// MARK: - Concurrency helpers

/// Runs `body` on a new thread with a name; `join()` waits for it.
final class Worker: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let t = Thread {
            body()
            done.signal()
        }
        t.name = name
        t.stackSize = 1 << 20
        t.start()
    }

    /// Waits for the thread; false when it did not finish within `timeout` seconds.
    @discardableResult
    func join(timeout: Double = .infinity) -> Bool {
        if timeout.isInfinite {
            done.wait()
            return true
        }
        return done.wait(timeout: .now() + timeout) == .success
    }
}

// MARK: - Errors

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
