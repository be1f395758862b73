#if canImport(Glibc)
    import Glibc
#endif

/// Whether `needle` occurs in `haystack`, byte for byte: `memchr` for the first byte, `memcmp` for the rest (a
/// debug build's generic search takes seconds on a file system image).
public func rawSearch(_ haystack: [UInt8], for needle: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return true }
    guard haystack.count >= needle.count else { return false }
    return haystack.withUnsafeBufferPointer { h in
        needle.withUnsafeBufferPointer { n in
            guard let hb = h.baseAddress, let nb = n.baseAddress else { return false }
            var i = 0
            let last = h.count - n.count
            while i <= last {
                guard let hit = memchr(hb + i, Int32(nb[0]), last - i + 1) else { return false }
                let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - hb
                if memcmp(hb + at, nb, n.count) == 0 { return true }
                i = at + 1
            }
            return false
        }
    }
}
