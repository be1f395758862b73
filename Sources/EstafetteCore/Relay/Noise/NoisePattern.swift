/// A Noise handshake pattern (specification rev 34, §7): the pre-messages and the token lists of the messages.
/// Estafette's relay links use ``xk``; the other fundamental patterns are here because the same machine runs
/// them for free, and the published test vectors for them check it further.
///
/// Patterns are only the specification's own; one cannot be built from arbitrary tokens, so every pattern here
/// is known to use a key only after it exists.
public struct NoisePattern: Hashable, Sendable, CustomStringConvertible {
    /// A token of a message pattern.
    public enum Token: Hashable, Sendable {
        /// The sender's ephemeral public key, in clear.
        case e
        /// The sender's static public key, encrypted once a key exists.
        case s
        /// DH(initiator's ephemeral, responder's ephemeral).
        case ee
        /// DH(initiator's ephemeral, responder's static).
        case es
        /// DH(initiator's static, responder's ephemeral).
        case se
        /// DH(initiator's static, responder's static).
        case ss
    }

    /// The pattern's name in a protocol name, for example `XK`.
    public let name: String
    /// Whether the initiator's static key is known to the responder before the handshake (`-> s ...`).
    let initiatorStaticIsPreShared: Bool
    /// Whether the responder's static key is known to the initiator before the handshake (`<- s ...`).
    let responderStaticIsPreShared: Bool
    /// The messages in order; even indices are sent by the initiator, odd ones by the responder.
    let messages: [[Token]]

    private init(_ name: String, initiatorPre: Bool = false, responderPre: Bool = false, _ messages: [[Token]]) {
        self.name = name
        self.initiatorStaticIsPreShared = initiatorPre
        self.responderStaticIsPreShared = responderPre
        self.messages = messages
    }

    public var description: String { name }

    /// Whether the given role sends its static key during the handshake or has it pre-shared.
    func usesStaticKey(of role: NoiseHandshake.Role) -> Bool {
        let preShared = role == .initiator ? initiatorStaticIsPreShared : responderStaticIsPreShared
        let first = role == .initiator ? 0 : 1
        let sends = stride(from: first, to: messages.count, by: 2).contains { messages[$0].contains(.s) }
        return preShared || sends
    }

    /// Whether the message at `index` is sent by the initiator.
    static func isInitiatorMessage(_ index: Int) -> Bool { index % 2 == 0 }

    // MARK: The specification's patterns (§7.4 interactive, §7.5 one-way)

    /// `<- s  ...  -> e, es  <- e, ee  -> s, se`: the initiator knows the responder's static key in advance and
    /// sends its own, encrypted, in the third message. Estafette's relay links.
    public static let xk = NoisePattern("XK", responderPre: true, [[.e, .es], [.e, .ee], [.s, .se]])
    /// `-> e  <- e, ee`: no static keys.
    public static let nn = NoisePattern("NN", [[.e], [.e, .ee]])

    static let nk = NoisePattern("NK", responderPre: true, [[.e, .es], [.e, .ee]])
    static let nx = NoisePattern("NX", [[.e], [.e, .ee, .s, .es]])
    static let kn = NoisePattern("KN", initiatorPre: true, [[.e], [.e, .ee, .se]])
    static let kk = NoisePattern("KK", initiatorPre: true, responderPre: true, [[.e, .es, .ss], [.e, .ee, .se]])
    static let kx = NoisePattern("KX", initiatorPre: true, [[.e], [.e, .ee, .se, .s, .es]])
    static let xn = NoisePattern("XN", [[.e], [.e, .ee], [.s, .se]])
    static let xx = NoisePattern("XX", [[.e], [.e, .ee, .s, .es], [.s, .se]])
    static let `in` = NoisePattern("IN", [[.e, .s], [.e, .ee, .se]])
    static let ik = NoisePattern("IK", responderPre: true, [[.e, .es, .s, .ss], [.e, .ee, .se]])
    static let ix = NoisePattern("IX", [[.e, .s], [.e, .ee, .se, .s, .es]])
    static let n = NoisePattern("N", responderPre: true, [[.e, .es]])
    static let k = NoisePattern("K", initiatorPre: true, responderPre: true, [[.e, .es, .ss]])
    static let x = NoisePattern("X", responderPre: true, [[.e, .es, .s, .ss]])

    /// Every pattern above, by name: what test vectors are matched against.
    static let all: [String: NoisePattern] = Dictionary(
        uniqueKeysWithValues: [xk, nn, nk, nx, kn, kk, kx, xn, xx, `in`, ik, ix, n, k, x].map { ($0.name, $0) })
}
