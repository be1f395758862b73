import EstafetteAPI
import NIOConcurrencyHelpers

/// Fans new inbox items out to subscribed API connections. Each subscriber has a bounded queue: a subscriber
/// that does not read loses the oldest notifications beyond 1024 (the inbox still holds every message).
final class NotificationHub: Sendable {
    private let subscribers = NIOLockedValueBox<[Int: AsyncStream<InboxItem>.Continuation]>([:])
    private let nextID = NIOLockedValueBox(0)

    func subscribe() -> (id: Int, stream: AsyncStream<InboxItem>) {
        let (stream, continuation) = AsyncStream.makeStream(of: InboxItem.self, bufferingPolicy: .bufferingNewest(1024))
        let id = nextID.withLockedValue { n in
            n += 1
            return n
        }
        subscribers.withLockedValue { $0[id] = continuation }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLockedValue { $0.removeValue(forKey: id) }?.finish()
    }

    func publish(_ item: InboxItem) {
        for c in subscribers.withLockedValue({ Array($0.values) }) {
            c.yield(item)
        }
    }

    func finishAll() {
        for c in subscribers.withLockedValue({ s in
            defer { s.removeAll() }
            return Array(s.values)
        }) {
            c.finish()
        }
    }
}
