import NIOConcurrencyHelpers
import NIOCore

/// The API connections being served, bounded: when all `limit` places are taken, a new connection takes the place
/// of the one idle longest (no request being answered, no subscription), which is closed; only when every
/// connection is busy or subscribed is the new one refused. So a client that leaks idle connections can neither
/// exhaust the daemon's file descriptors nor lock out the next script.
final class ConnectionTable: Sendable {
    private struct Entry {
        let channel: any Channel
        var lastActive: NIODeadline
        /// Requests read whose answer is not yet written.
        var pending = 0
        var subscribed = false
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextID = 0
    }

    let limit: Int
    private let state = NIOLockedValueBox(State())

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// What happened to a new connection.
    enum Admission {
        /// Served under this ID; `evicted` is an idle connection closed to make room.
        case admitted(id: Int, evicted: (any Channel)?)
        case refused
    }

    func admit(_ channel: any Channel) -> Admission {
        state.withLockedValue { s in
            var evicted: (any Channel)? = nil
            if s.entries.count >= limit {
                let idle = s.entries.filter { $0.value.pending == 0 && !$0.value.subscribed }
                guard let oldest = idle.min(by: { $0.value.lastActive < $1.value.lastActive }) else { return .refused }
                evicted = oldest.value.channel
                s.entries[oldest.key] = nil
            }
            let id = s.nextID
            s.nextID += 1
            s.entries[id] = Entry(channel: channel, lastActive: .now())
            return .admitted(id: id, evicted: evicted)
        }
    }

    /// A request arrived (`pending` +1) or its answer was written (−1), or the connection subscribed.
    func update(_ id: Int, pending: Int = 0, subscribed: Bool? = nil) {
        state.withLockedValue { s in
            guard var e = s.entries[id] else { return }
            e.pending += pending
            if let subscribed { e.subscribed = subscribed }
            e.lastActive = .now()
            s.entries[id] = e
        }
    }

    func remove(_ id: Int) {
        state.withLockedValue { _ = $0.entries.removeValue(forKey: id) }
    }

    var count: Int { state.withLockedValue { $0.entries.count } }
}
