import EstafetteCore

/// One envelope submitted at one node at one virtual time.
public struct Injection: Sendable {
    public let at: Millis
    public let node: Int
    public let envelope: Envelope
    public let encoded: [UInt8]
    public let id: EnvelopeID
    /// The text every node must be shown, for alerts; `nil` for channel envelopes (carried, never shown).
    public let alertText: String?

    public var expiresAt: UInt64 { envelope.expiresAt }
    public var isAlert: Bool { alertText != nil }

    init(at: Millis, node: Int, envelope: Envelope, alertText: String?) {
        self.at = at
        self.node = node
        self.envelope = envelope
        self.encoded = envelope.encoded()
        self.id = EnvelopeID(ofEncoded: encoded)
        self.alertText = alertText
    }
}

/// Builds injections from a seeded generator. Channel envelopes cost no crypto in the core, so they make up most
/// of a workload; alerts are signed and verified, and checked for delivery at every node.
public struct WorkloadBuilder {
    var rng: SplitMix64
    private var sequences: [Int: UInt64] = [:]
    private(set) var injections: [Injection] = []
    /// Share of channel envelopes made large enough to be fragmented.
    var largeShare = 0.05

    public init(seed: UInt64) {
        self.rng = SplitMix64.stream(seed, 2)
    }

    /// A channel envelope with a random tag and a random body of 200–900 bytes (or, now and then, 1500–4000
    /// bytes, which takes 2–4 fragments).
    public mutating func channel(at: Millis, node: Int, lifetimeSeconds: UInt64) {
        let large = rng.chance(largeShare)
        let bodyBytes = large ? rng.int(in: 1500...4000) : rng.int(in: 200...900)
        let tag = rng.bytes(8)
        let body = rng.bytes(bodyBytes)
        let envelope = Envelope(
            kind: .channel, expiresAt: Self.expiry(at, lifetimeSeconds: lifetimeSeconds), tag: tag, body: body)
        injections.append(Injection(at: at, node: node, envelope: envelope, alertText: nil))
    }

    /// An alert signed by the identity of the node that posts it.
    public mutating func alert(at: Millis, node: Int, author: SigningKeyPair, lifetimeSeconds: UInt64) {
        let sequence = sequences[node, default: 0] + 1
        sequences[node] = sequence
        let text = "alert \(injections.count) from n\(node), #\(sequence)"
        let envelope: Envelope
        do {
            envelope = try Alert.sign(
                text: text, by: author, sequence: sequence, createdAt: Self.seconds(at),
                expiresAt: Self.expiry(at, lifetimeSeconds: lifetimeSeconds))
        } catch {
            preconditionFailure("a short alert text failed to sign: \(error)")
        }
        injections.append(Injection(at: at, node: node, envelope: envelope, alertText: text))
    }

    static func seconds(_ millis: Millis) -> UInt64 { UInt64(millis / 1000) }

    /// As a node stamps the envelopes it makes: rounded down to the minute (`Envelope.expiry`).
    static func expiry(_ millis: Millis, lifetimeSeconds: UInt64) -> UInt64 {
        Envelope.expiry(createdAt: seconds(millis), lifetimeSeconds: lifetimeSeconds)
    }
}
