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
    private enum Entry {
        case ready(Injection)
        /// An alert, signed when the workload is read: an author numbers its alerts in the order it posts them
        /// (time order), whatever order a scenario adds them in.
        case alert(at: Millis, node: Int, author: SigningKeyPair, lifetimeSeconds: UInt64)
    }
    private var entries: [Entry] = []
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
        entries.append(.ready(Injection(at: at, node: node, envelope: envelope, alertText: nil)))
    }

    /// An alert signed by the identity of the node that posts it.
    public mutating func alert(at: Millis, node: Int, author: SigningKeyPair, lifetimeSeconds: UInt64) {
        entries.append(.alert(at: at, node: node, author: author, lifetimeSeconds: lifetimeSeconds))
    }

    /// The injections, in the order they were added. Each node's alerts are numbered 1, 2, … in time order, and
    /// created one second after the previous one at least, as `MeshNode.postAlert` does: receivers refuse to show
    /// an alert whose number and creation time disagree (`AlertAuthors`), so a workload that numbered alerts in
    /// the order a scenario happened to add them would count honest alerts as undelivered.
    var injections: [Injection] {
        var order: [(at: Millis, index: Int)] = []
        for (i, entry) in entries.enumerated() {
            if case .alert(let at, _, _, _) = entry { order.append((at, i)) }
        }
        order.sort { ($0.at, $0.index) < ($1.at, $1.index) }
        var sequences: [Int: UInt64] = [:]
        var lastCreated: [Int: UInt64] = [:]
        var signed: [Int: Injection] = [:]
        for (_, i) in order {
            guard case .alert(let at, let node, let author, let lifetime) = entries[i] else { continue }
            let sequence = sequences[node, default: 0] + 1
            sequences[node] = sequence
            let createdAt = max(Self.seconds(at), lastCreated[node].map { $0 + 1 } ?? 0)
            lastCreated[node] = createdAt
            let text = "alert \(i) from n\(node), #\(sequence)"
            let envelope: Envelope
            do {
                envelope = try Alert.sign(
                    text: text, by: author, sequence: sequence, createdAt: createdAt,
                    expiresAt: Self.expiry(at, lifetimeSeconds: lifetime))
            } catch {
                preconditionFailure("a short alert text failed to sign: \(error)")
            }
            signed[i] = Injection(at: at, node: node, envelope: envelope, alertText: text)
        }
        return entries.indices.map { i in
            switch entries[i] {
            case .ready(let injection): return injection
            case .alert: return signed[i]!
            }
        }
    }

    static func seconds(_ millis: Millis) -> UInt64 { UInt64(millis / 1000) }

    /// As a node stamps the envelopes it makes: rounded down to the minute (`Envelope.expiry`).
    static func expiry(_ millis: Millis, lifetimeSeconds: UInt64) -> UInt64 {
        Envelope.expiry(createdAt: seconds(millis), lifetimeSeconds: lifetimeSeconds)
    }
}
