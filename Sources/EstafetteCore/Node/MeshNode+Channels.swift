/// Passphrase channels: which ones this node reads, and posts to them. The shell derives the keys (Argon2id, about
/// a second on a small board) off its event loop and hands them in; the node only holds and uses them.
extension MeshNode {
    /// Upper bound on the channels one node reads: each channel envelope costs one keyed hash per joined channel.
    public static let maxChannels = 64

    /// Why a channel could not be joined.
    public enum ChannelError: Error, Equatable, Sendable {
        /// The node already reads `maxChannels` channels.
        case tooManyChannels
        /// No joined channel has this name.
        case notJoined
    }

    /// Starts reading the channel of `key` (replacing a joined channel of the same name: a new passphrase for it).
    /// Posts already held are not re-read: the shell decides whether to look through its store.
    public mutating func joinChannel(_ key: ChannelKey) throws(ChannelError) {
        if let i = channels.firstIndex(where: { $0.name == key.name }) {
            channels[i] = key
            return
        }
        guard channels.count < Self.maxChannels else { throw .tooManyChannels }
        channels.append(key)
    }

    /// Stops reading the channel called `name`. Its posts are still carried, like anyone else's.
    public mutating func leaveChannel(named name: String) throws(ChannelError) {
        guard let i = channels.firstIndex(where: { $0.name == name }) else { throw .notJoined }
        channels.remove(at: i)
    }

    /// The names of the channels this node reads, in the order joined.
    public var joinedChannels: [String] { channels.map(\.name) }

    /// Seals a post by this node's identity to the joined channel `name`, living `lifetimeSeconds` from `now`, and
    /// submits it; the author is shown its own post.
    public mutating func postToChannel(
        named name: String, text: String, lifetimeSeconds: UInt64, now: Millis, ephemeral: Bool = false
    ) throws(ChannelPostError) -> Submission {
        guard let key = channels.first(where: { $0.name == name }) else { throw .notJoined }
        let stamp = Self.stamp(now: now, lifetimeSeconds: lifetimeSeconds)
        let envelope: Envelope
        do {
            envelope = try ChannelMessage.seal(
                text: text, from: identity, in: key, createdAt: stamp.createdAt, expiresAt: stamp.expiresAt,
                ephemeral: ephemeral)
        } catch {
            throw .message(error)
        }
        do {
            return try submit(envelope, now: now, tryOpening: true)
        } catch {
            throw .rejected(error)
        }
    }

    /// Why a channel post could not be made here.
    public enum ChannelPostError: Error, Equatable, Sendable {
        /// No joined channel has this name.
        case notJoined
        /// Sealing refused the post (its text is too long, …).
        case message(MessageError)
        /// The node refused the envelope it made.
        case rejected(SubmitError)
    }

    /// A channel envelope as a post of one of our channels, or nil: not ours (carried), or ours but failing a check
    /// (counted by reason, never shown, still carried: the nodes that carry it cannot tell it is bad).
    mutating func openChannelPost(_ envelope: Envelope, id: EnvelopeID) -> ReceivedMessage? {
        for key in channels where key.matches(envelope) {
            do {
                return try ChannelMessage.open(envelope, id: id, with: key)
            } catch {
                counters.add("drop.\(error.reason)")
                return nil
            }
        }
        return nil
    }
}
