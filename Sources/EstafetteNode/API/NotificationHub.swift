import EstafetteAPI
import NIOConcurrencyHelpers

/// Fans new inbox items out to subscribed API connections. Each subscriber has a bounded queue: a subscriber
/// that does not read loses the oldest notifications beyond `queueLimit` (the inbox still holds every message).
final class NotificationHub: Sendable {
    private let subscribers = NIOLockedValueBox<[Int: NotificationQueue]>([:])
    private let nextID = NIOLockedValueBox(0)
    /// Twice the largest group commit, whose notifications are published all at once: a subscriber that keeps
    /// reading never loses one, however the messages were grouped.
    static let queueLimit = 2 * CommitQueue.maxPending

    func subscribe() -> (id: Int, queue: NotificationQueue) {
        let queue = NotificationQueue(limit: Self.queueLimit)
        let id = nextID.withLockedValue { n in
            n += 1
            return n
        }
        subscribers.withLockedValue { $0[id] = queue }
        return (id, queue)
    }

    func unsubscribe(_ id: Int) {
        subscribers.withLockedValue { $0.removeValue(forKey: id) }?.finish()
    }

    func publish(_ item: InboxItem) {
        for q in subscribers.withLockedValue({ Array($0.values) }) {
            q.push(item)
        }
    }

    func finishAll() {
        for q in subscribers.withLockedValue({ s in
            defer { s.removeAll() }
            return Array(s.values)
        }) {
            q.finish()
        }
    }
}
