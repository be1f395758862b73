import Foundation

/// A value behind a lock, shared between threads.
public final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()

    public init(_ value: T) { self.value = value }

    public func with<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    public var get: T { with { $0 } }
}

/// Runs blocking work (a poll loop, a `waitpid`) on a thread of its own and awaits its result, so an async
/// caller never holds one of Swift concurrency's few threads while the work sleeps.
public func onOwnThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.name = name
        t.stackSize = 1 << 20
        t.start()
    }
}
