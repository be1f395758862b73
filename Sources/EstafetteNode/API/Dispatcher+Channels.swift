import EstafetteAPI
import EstafetteCore
import Foundation
import NIOPosix

/// The channel and blocking methods: channels.join, channels.leave, channels.list, channels.post, contacts.block,
/// contacts.unblock.
extension Dispatcher {
    static let channelMethods: [String] = [
        RPC.Method.channelsJoin, RPC.Method.channelsLeave, RPC.Method.channelsList, RPC.Method.channelsPost,
        RPC.Method.contactsBlock, RPC.Method.contactsUnblock,
    ]

    /// Longest passphrase accepted, in UTF-8 bytes.
    static let maxPassphraseBytes = 1_024

    /// The answer to a channel or blocking method; nil for any other method.
    func channelAnswer(method: String, params: JSONValue?) async throws -> Answer? {
        switch method {
        case RPC.Method.channelsJoin:
            let p = try decode(ChannelsJoinParams.self, params)
            try checkChannelName(p.name)
            guard !p.passphrase.isEmpty, p.passphrase.utf8.count <= Self.maxPassphraseBytes else {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.badPassphrase,
                    message: "a passphrase has 1 to \(Self.maxPassphraseBytes) bytes")
            }
            // Argon2id (64 MiB, up to about a second on a small board) on NIO's blocking-work pool: never on the
            // node's actor nor a cooperative thread, and at most one derivation per pool thread at once.
            let (name, passphrase) = (p.name, p.passphrase)
            let derived: ChannelKey?
            do {
                derived = try await NIOThreadPool.singleton.runIfActive {
                    ChannelKey.derive(name: name, passphrase: passphrase)
                }
            } catch {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.internalError, message: "cannot derive the channel key: \(error)")
            }
            guard let key = derived else {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.internalError, message: "cannot derive the channel key (out of memory?)")
            }
            _ = try await operation { try await shell.joinChannel(key, at: wallClockMillis() / 1000) }
            return try .from(ChannelJoined(channel: p.name))
        case RPC.Method.channelsLeave:
            let p = try decode(ChannelsLeaveParams.self, params)
            guard try await operation({ try await shell.leaveChannel(named: p.name) }) else {
                throw RPCErrorObject(
                    code: RPC.ErrorCode.unknownChannel, message: "no joined channel named '\(p.name.prefix(80))'")
            }
            return try .from(OK())
        case RPC.Method.channelsList:
            _ = try decode(Empty.self, params)
            let list = try storage { try shell.store.channels() }
            return try .from(ChannelsList(channels: list.map { ChannelInfo(name: $0.name, joined_at: $0.joinedAt) }))
        case RPC.Method.channelsPost:
            let p = try decode(ChannelsPostParams.self, params)
            try checkText(p.text)
            let expiresIn = try Self.lifetime(p.expires_in)
            let prepared = try await operation {
                try await shell.prepareChannelPost(channel: p.channel, text: p.text, expiresIn: expiresIn)
            }
            return .afterCommit(prepared)
        case RPC.Method.contactsBlock:
            let p = try decode(ContactsBlockParams.self, params)
            let key = try parseID(p.id)
            try storage { try shell.store.block(key: key.bytes, at: wallClockMillis() / 1000) }
            return try .from(OK())
        case RPC.Method.contactsUnblock:
            let p = try decode(ContactsBlockParams.self, params)
            let key = try parseID(p.id)
            _ = try storage { try shell.store.unblock(key: key.bytes) }
            return try .from(OK())
        default:
            return nil
        }
    }

    /// Shortest `expires_in`: expiries are rounded down to the minute, so anything shorter could expire at once.
    static let minExpiresIn = 60

    /// An `expires_in` checked against its bounds (60 s … the longest lifetime an envelope may have).
    static func lifetime(_ expiresIn: Int?) throws(RPCErrorObject) -> UInt64? {
        guard let expiresIn else { return nil }
        let max = Int(Envelope.maxLifetimeSeconds)
        guard (minExpiresIn...max).contains(expiresIn) else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.invalidParams,
                message: "expires_in must be between \(minExpiresIn) and \(max) seconds (7 days)")
        }
        return UInt64(expiresIn)
    }

    func checkChannelName(_ name: String) throws(RPCErrorObject) {
        guard !name.isEmpty, name.utf8.count <= ChannelKey.maxNameBytes else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.badChannel, message: "a channel name has 1 to \(ChannelKey.maxNameBytes) bytes")
        }
        guard name.trimmingWhitespace() == name,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.badChannel,
                message: "a channel name cannot start or end with whitespace or hold control characters")
        }
    }
}
