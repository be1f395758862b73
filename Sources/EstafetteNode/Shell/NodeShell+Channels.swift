import EstafetteAPI
import EstafetteCore

/// Channels as the API asks for them: the node reads the joined channels' posts and seals new ones; the shell keeps
/// the keys in the store so they survive a restart. The Argon2id derivation runs before, on NIO's blocking-work
/// pool (Dispatcher+Channels.swift), so a join does not hold up the mesh.
extension NodeShell {
    /// Joins a channel with a derived key: durable first, then read by the node. Returns when it was first joined.
    func joinChannel(_ key: ChannelKey, at: Int64) throws(OperationError) -> Int64 {
        guard node.joinedChannels.contains(key.name) || node.joinedChannels.count < MeshNode.maxChannels else {
            throw OperationError(
                code: RPC.ErrorCode.badChannel, message: "at most \(MeshNode.maxChannels) channels can be joined")
        }
        let joinedAt: Int64
        do {
            joinedAt = try store.joinChannel(name: key.name, key: key.master, at: at)
        } catch {
            throw OperationError(code: RPC.ErrorCode.storageFailure, message: "database error: \(error)")
        }
        do {
            try node.joinChannel(key)
        } catch {
            throw OperationError(code: RPC.ErrorCode.badChannel, message: "cannot join: \(error)")
        }
        return joinedAt
    }

    /// Leaves a channel: forgotten by the store and the node. False when it was not joined.
    func leaveChannel(named name: String) throws(OperationError) -> Bool {
        let removed: Bool
        do {
            removed = try store.leaveChannel(name: name)
        } catch {
            throw OperationError(code: RPC.ErrorCode.storageFailure, message: "database error: \(error)")
        }
        let wasRead = (try? node.leaveChannel(named: name)) != nil
        return removed || wasRead
    }

    /// Seals a post to a joined channel and queues it for the next group commit.
    func prepareChannelPost(channel: String, text: String, expiresIn: UInt64? = nil) throws(OperationError)
        -> Prepared
    {
        let now = wallClockMillis()
        let submission: MeshNode.Submission
        do {
            submission = try node.postToChannel(
                named: channel, text: text, lifetimeSeconds: expiresIn ?? config.messageLifetimeSeconds, now: now,
                ephemeral: expiresIn != nil)
        } catch {
            switch error {
            case .notJoined:
                throw OperationError(
                    code: RPC.ErrorCode.unknownChannel, message: "no joined channel named '\(channel)'")
            case .message(let e):
                throw OperationError(code: RPC.ErrorCode.invalidParams, message: "cannot seal post: \(e)")
            case .rejected(let e):
                throw OperationError(code: RPC.ErrorCode.internalError, message: "envelope rejected: \(e.reason)")
            }
        }
        return queuePrepared(submission, now: now)
    }

    /// The channels stored by an earlier run, as the node reads them (called once, before the node starts).
    static func loadChannels(from store: Store, into node: inout MeshNode) throws {
        for c in try store.channels() {
            guard let key = try? ChannelKey(name: c.name, master: c.key) else { continue }
            try? node.joinChannel(key)
        }
    }
}
