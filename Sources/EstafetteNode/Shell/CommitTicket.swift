import NIOConcurrencyHelpers

/// Completes when a queued write has been committed to disk (or failed). Awaitable from any task.
final class CommitTicket: Sendable {
    private enum State {
        case pending([CheckedContinuation<Void, any Error>])
        case done((any Error)?)
    }

    private let state = NIOLockedValueBox(State.pending([]))

    func complete(_ error: (any Error)?) {
        let waiters: [CheckedContinuation<Void, any Error>] = state.withLockedValue { s in
            guard case .pending(let w) = s else { return [] }
            s = .done(error)
            return w
        }
        for w in waiters {
            if let error { w.resume(throwing: error) } else { w.resume() }
        }
    }

    /// Waits for the commit. Not cancellable: a caller that asked for durability gets a definite answer.
    func wait() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let result: (any Error)?? = state.withLockedValue { s in
                switch s {
                case .pending(var w):
                    w.append(c)
                    s = .pending(w)
                    return .none
                case .done(let e):
                    return .some(e)
                }
            }
            switch result {
            case .none: break
            case .some(.none): c.resume()
            case .some(.some(let e)): c.resume(throwing: e)
            }
        }
    }
}
