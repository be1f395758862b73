import EstafetteCore
import NIOConcurrencyHelpers

/// The relay quota (`[relay] max_bytes`) and each link key's share of it (docs/relays.md, "Quota").
///
/// - The quota bounds the bytes of every stored envelope. When an envelope from a link would pass it, the
///   envelopes that expire soonest are evicted first, but only those that expire before the new one: an
///   envelope that would itself be the next to go is refused instead (`refusedFull`).
/// - No link key may hold more than its share: a known key (listed in `allow_link_keys`, or the key of a relay
///   this node links to) gets `max(quota / 8, quota / known keys)`; any other key (possible only when
///   `allow_link_keys` is empty) gets `quota / 32`. An envelope that would take its key past its share is
///   refused (`refusedOverShare`), so one flooding link can fill its share and no more: it never evicts the
///   others' mail beyond it.
/// - Envelopes from the LAN, sent here or imported have no link key and no share; they count toward the quota.
public struct RelayQuotaPolicy: Sendable, Equatable {
    public var maxBytes: Int64
    /// Keys allowed to link (empty: anyone).
    public var allowLinkKeys: Set<[UInt8]>
    /// Static keys of the relays this node links to (the X25519 form of their pinned IDs).
    public var pinnedKeys: Set<[UInt8]>

    public init(maxBytes: Int64, allowLinkKeys: Set<[UInt8]> = [], pinnedKeys: Set<[UInt8]> = []) {
        self.maxBytes = maxBytes
        self.allowLinkKeys = allowLinkKeys
        self.pinnedKeys = pinnedKeys
    }

    public static let knownShareDivisor: Int64 = 8
    public static let unknownShareDivisor: Int64 = 32

    /// The most bytes envelopes from this link key may hold.
    public func share(of key: [UInt8]) -> Int64 {
        if allowLinkKeys.contains(key) || pinnedKeys.contains(key) {
            let known = Int64(allowLinkKeys.union(pinnedKeys).count)
            return max(maxBytes / Self.knownShareDivisor, maxBytes / max(1, known))
        }
        return allowLinkKeys.isEmpty ? maxBytes / Self.unknownShareDivisor : 0
    }
}

/// What `RelayQuota.admit` decided for one envelope from a link.
public enum RelayAdmission: Sendable, Equatable {
    /// Hand it to the node; these envelopes were evicted to make room (already deleted from the store; the node
    /// must forget them).
    case admitted(evicted: [EnvelopeID])
    /// Its link key holds its share already.
    case refusedOverShare
    /// The store is full of envelopes that expire later than this one.
    case refusedFull
}

/// Applies the policy to the store: admission of envelopes from links, eviction, and the counters `node.status`
/// shows. Thread-safe; one admission at a time (so two cannot both take the last free bytes).
public final class RelayQuota: Sendable {
    let store: Store
    private let state: NIOLockedValueBox<State>

    struct State {
        var policy: RelayQuotaPolicy
        var evictions: Int64 = 0
        var refusedOverShare: Int64 = 0
        var refusedFull: Int64 = 0
    }

    /// Where evicted IDs go: the node must forget them (`NodeShell.forget`). Set once by the daemon.
    private let evictionSink = NIOLockedValueBox<(@Sendable ([EnvelopeID]) async -> Void)?>(nil)

    public init(store: Store, policy: RelayQuotaPolicy) {
        self.store = store
        self.state = NIOLockedValueBox(State(policy: policy))
    }

    /// Sets what is told of evicted envelopes (the daemon: `{ await shell.forget($0) }`).
    public func onEviction(_ sink: @escaping @Sendable ([EnvelopeID]) async -> Void) {
        evictionSink.withLockedValue { $0 = sink }
    }

    /// For the link runtime: `admit` for an encoded envelope that arrived on a link whose peer holds `linkKey`,
    /// before it is handed to the node (`RelayNodePort.relayReceive`); evicted envelopes are passed to the
    /// eviction sink before it returns. Bytes that are no envelope are admitted without a reservation: the
    /// node's validation refuses them. On `.refusedOverShare` or `.refusedFull` the runtime settles the envelope
    /// as refused (acknowledged, not stored: the peer does not send it again on this link).
    public func admit(encoded bytes: [UInt8], linkKey: [UInt8], now: Millis) async throws -> RelayAdmission {
        guard let envelope = try? Envelope(decoding: bytes) else { return .admitted(evicted: []) }
        let result = try admit(
            EnvelopeID(ofEncoded: bytes), size: bytes.count, expiresAt: envelope.expiresAt, linkKey: linkKey, now: now)
        if case .admitted(let evicted) = result, !evicted.isEmpty, let sink = evictionSink.withLockedValue({ $0 }) {
            await sink(evicted)
        }
        return result
    }

    public var policy: RelayQuotaPolicy {
        get { state.withLockedValue { $0.policy } }
        set { state.withLockedValue { $0.policy = newValue } }
    }

    /// Decides whether an envelope (its ID, encoded size and expiry) brought by `linkKey` may be stored, evicting
    /// what expires soonest when that makes room. Call it before handing the envelope to the node, and only for
    /// envelopes the node does not hold yet; once admitted, the store records `linkKey` with the envelope when
    /// it commits it.
    public func admit(
        _ id: EnvelopeID, size: Int, expiresAt: UInt64, linkKey: [UInt8], now: Millis
    ) throws -> RelayAdmission {
        try state.withLockedValue { s throws -> RelayAdmission in
            let size = Int64(size)
            // Pending first, then the stored usage: an envelope committed in between is counted twice (a little
            // early to refuse), never zero times (read the other way round, a commit between the two reads hid it
            // from both, and a flooding key passed its share).
            let pending = store.linkAttribution.pending(now: now)
            let usage = try store.relayUsage()
            let keyBytes = usage.bytes(of: linkKey) + (pending[linkKey] ?? 0)
            guard keyBytes + size <= s.policy.share(of: linkKey) else {
                s.refusedOverShare += 1
                return .refusedOverShare
            }
            let total = usage.bytes + pending.values.reduce(0, +)
            var evicted: [EnvelopeID] = []
            let excess = total + size - s.policy.maxBytes
            if excess > 0 {
                guard let ids = try store.evictSoonestExpiring(bytes: excess, before: expiresAt, key: nil) else {
                    s.refusedFull += 1
                    return .refusedFull
                }
                evicted = ids
                s.evictions += Int64(ids.count)
            }
            guard store.linkAttribution.record(id, key: linkKey, size: size, now: now) else {
                s.refusedFull += 1
                return .refusedFull
            }
            return .admitted(evicted: evicted)
        }
    }

    /// The `relay` object of `node.status`, without the link count (the link runtime knows it).
    public struct Figures: Sendable, Equatable {
        public var envelopes: Int64
        public var bytes: Int64
        public var maxBytes: Int64
        public var evictions: Int64
        public var refusedOverShare: Int64
        public var refusedFull: Int64
        /// Link keys holding envelopes.
        public var linkKeys: Int
    }

    public func figures() throws -> Figures {
        let usage = try store.relayUsage()
        return state.withLockedValue { s in
            Figures(
                envelopes: usage.envelopes, bytes: usage.bytes, maxBytes: s.policy.maxBytes, evictions: s.evictions,
                refusedOverShare: s.refusedOverShare, refusedFull: s.refusedFull,
                linkKeys: usage.perKey.keys.filter { !$0.isEmpty }.count)
        }
    }
}
