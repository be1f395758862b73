import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`): never jumps with the wall clock.
@inline(__always)
public func monoNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Seconds elapsed since `start` (a `monoNanos()` value).
public func secondsSince(_ start: UInt64) -> Double { Double(monoNanos() &- start) / 1e9 }

/// Sleeps until the monotonic clock reads `deadline` (nanoseconds), without drift from earlier sleeps.
public func sleepUntil(_ deadline: UInt64) {
    var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}

/// Blocks the calling thread for `s` seconds (never call it on a Swift concurrency thread).
public func sleepSeconds(_ s: Double) {
    guard s > 0 else { return }
    sleepUntil(monoNanos() + UInt64(s * 1e9))
}

/// Wall clock in milliseconds since the Unix epoch (what MeshNode expects as `now`).
public func wallMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
