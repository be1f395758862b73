import EstafetteAPI
import NIOConcurrencyHelpers
import NIOCore

/// Joins response lines that become ready together (a group commit answers many sends at once) into one write.
///
/// Whoever adds a line when nobody is writing becomes the writer: it writes everything queued, as one buffer,
/// until the queue is empty. The others only queue and return. So a burst costs one write (one syscall) instead
/// of one per line, and a lone line is written at once, as before.
final class LineBatcher: Sendable {
    private struct State {
        var queued: [ByteBuffer] = []
        var writing = false
    }

    private let state = NIOLockedValueBox(State())

    /// Queues `line`; when this caller is the writer, writes until nothing is queued. A write error is thrown to
    /// the writer (the connection then fails, as a failed write did before).
    func send(_ line: ByteBuffer, write: (ByteBuffer) async throws -> Void) async throws {
        let isWriter = state.withLockedValue { s in
            s.queued.append(line)
            if s.writing { return false }
            s.writing = true
            return true
        }
        guard isWriter else { return }
        while true {
            let lines: [ByteBuffer] = state.withLockedValue { s in
                defer { s.queued.removeAll(keepingCapacity: true) }
                if s.queued.isEmpty { s.writing = false }
                return s.queued
            }
            if lines.isEmpty { return }
            do {
                try await write(Self.join(lines))
            } catch {
                state.withLockedValue { $0.writing = false }
                throw error
            }
        }
    }

    static func join(_ lines: [ByteBuffer]) -> ByteBuffer {
        if lines.count == 1 { return lines[0] }
        var all = ByteBuffer()
        all.reserveCapacity(lines.reduce(0) { $0 + $1.readableBytes })
        for var l in lines { all.writeBuffer(&l) }
        return all
    }
}

/// One subscriber's notifications, bounded: beyond `limit` queued, the oldest are dropped (the inbox still holds
/// every message). The connection takes everything queued at once and writes it as one buffer.
final class NotificationQueue: Sendable {
    private struct State {
        var items: [InboxItem] = []
        var waiter: CheckedContinuation<[InboxItem]?, Never>? = nil
        var finished = false
    }

    let limit: Int
    private let state = NIOLockedValueBox(State())

    init(limit: Int) {
        self.limit = limit
    }

    func push(_ item: InboxItem) {
        let waiter: CheckedContinuation<[InboxItem]?, Never>? = state.withLockedValue { s in
            guard !s.finished else { return nil }
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.items.append(item)
            if s.items.count > limit { s.items.removeFirst(s.items.count - limit) }
            return nil
        }
        waiter?.resume(returning: [item])
    }

    /// No more items: a waiting `next()` returns nil, and so does every later one once the queue is drained.
    func finish() {
        let waiter = state.withLockedValue { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Everything queued (waiting for at least one item); nil once finished and drained, or when the task is
    /// cancelled.
    func next() async -> [InboxItem]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[InboxItem]?, Never>) in
                let ready: [InboxItem]?? = state.withLockedValue { s in
                    if !s.items.isEmpty {
                        defer { s.items.removeAll(keepingCapacity: true) }
                        return .some(s.items)
                    }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    s.waiter = c
                    return .none
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }
}
