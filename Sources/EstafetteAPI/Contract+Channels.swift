#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The channels and blocking part of the API contract (docs/api.md: channels.*, contacts.block, contacts.unblock).
extension RPC.Method {
    public static let channelsJoin = "channels.join"
    public static let channelsLeave = "channels.leave"
    public static let channelsList = "channels.list"
    public static let channelsPost = "channels.post"
    public static let contactsBlock = "contacts.block"
    public static let contactsUnblock = "contacts.unblock"
}

extension RPC.ErrorCode {
    /// channels.leave / channels.post: no joined channel has this name.
    public static let unknownChannel = -32050
    /// channels.join: the name is empty, too long, or holds control characters; or too many channels are joined.
    public static let badChannel = -32051
    /// channels.join: the passphrase is empty.
    public static let badPassphrase = -32052
}

public struct ChannelsJoinParams: Codable, Sendable {
    public var name: String
    public var passphrase: String
    public init(name: String, passphrase: String) {
        self.name = name
        self.passphrase = passphrase
    }
}

public struct ChannelJoined: Codable, Sendable, Equatable {
    /// The channel's name, to use with channels.post.
    public var channel: String
    public init(channel: String) { self.channel = channel }
}

public struct ChannelsLeaveParams: Codable, Sendable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct ChannelInfo: Codable, Sendable, Equatable {
    public var name: String
    /// Unix seconds.
    public var joined_at: Int64
    public init(name: String, joined_at: Int64) {
        self.name = name
        self.joined_at = joined_at
    }
}

public struct ChannelsList: Codable, Sendable, Equatable {
    public var channels: [ChannelInfo]
    public init(channels: [ChannelInfo]) { self.channels = channels }
}

public struct ChannelsPostParams: Codable, Sendable {
    public var channel: String
    public var text: String
    /// As `MessagesSendParams.expires_in`.
    public var expires_in: Int? = nil
    public init(channel: String, text: String, expires_in: Int? = nil) {
        self.channel = channel
        self.text = text
        self.expires_in = expires_in
    }
}

public struct ContactsBlockParams: Codable, Sendable {
    /// The textual ID (`es1…`) to block or unblock.
    public var id: String
    public init(id: String) { self.id = id }
}
