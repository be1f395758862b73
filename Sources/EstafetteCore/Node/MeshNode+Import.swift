/// Envelopes that reach the node by other ways than a LAN datagram: a bundle file carried by hand
/// (`estafette import`). They pass through exactly the validation a datagram's envelope gets (`accept`).
extension MeshNode {
    /// What became of one imported envelope.
    public enum ImportOutcome: Sendable, Equatable {
        /// Valid and new: the returned actions store it (and the LAN learns of it through the store digest).
        case imported
        /// Already held.
        case duplicate
        /// Refused by validation, for this reason (the counter name the LAN path uses, without `drop.`).
        case refused(String)
    }

    /// Validates one envelope's encoded bytes as the LAN path does and, when it is new, appends the `.store`
    /// action for it. Counted as `envelopes_imported`, `envelopes_duplicate` or `drop.<reason>`.
    public mutating func importEnvelope(_ bytes: [UInt8], now: Millis, into actions: inout [Action]) -> ImportOutcome {
        switch accept(bytes, now: now) {
        case .accepted(let stored, let message):
            counters.add("envelopes_imported")
            actions.append(.store(stored, message: message))
            return .imported
        case .duplicate:
            counters.add("envelopes_duplicate")
            return .duplicate
        case .rejected(let reason):
            counters.add("drop.\(reason)")
            return .refused(reason)
        }
    }

    /// Forgets envelopes the shell deleted from its store for a reason of its own (a relay's quota evicting the
    /// ones that expire soonest): they leave the index and the digest, so the node no longer offers them.
    public mutating func forget(_ ids: [EnvelopeID]) {
        for id in ids { removeIndex(id) }
        if !ids.isEmpty { counters.add("envelopes_evicted", Int64(ids.count)) }
    }
}
