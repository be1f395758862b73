/// Envelopes that arrive over a relay link (docs/relays.md): validated exactly as one from the LAN (`accept`),
/// then, when new, stored and gossiped on every LAN interface, since the LAN has not heard it.
extension MeshNode {
    /// What became of an envelope from a relay link.
    public enum LinkArrival: Sendable, Equatable {
        /// New and valid: the shell stores `submission.envelope` durably, and only then carries out
        /// `submission.afterStore` (its multicast to the LAN) and pushes it to the other links.
        case accepted(Submission)
        /// Already held.
        case duplicate
        /// Refused by validation, with the drop reason the LAN path counts.
        case rejected(String)
    }

    /// An encoded envelope received from a relay link.
    public mutating func receiveFromLink(_ bytes: [UInt8], now: Millis) -> LinkArrival {
        switch accept(bytes, now: now) {
        case .accepted(let stored, let message):
            counters.add("envelopes_new")
            counters.add("relay.envelopes_in")
            var afterStore: [Action] = []
            for d in datagrams(forEncoded: bytes, id: stored.id) {
                afterStore.append(.multicast(d, except: nil))
            }
            learnForDecoding(stored, from: nil, now: now, into: &afterStore)
            return .accepted(Submission(envelope: stored, message: message, afterStore: afterStore))
        case .duplicate:
            counters.add("relay.envelopes_duplicate")
            return .duplicate
        case .rejected(let reason):
            counters.add("drop.\(reason)")
            return .rejected(reason)
        }
    }

    /// The `(expires_at, id)` records of the unexpired envelopes held: the set a relay link reconciles, sorted
    /// (so that a link's Negentropy storage takes the array as it is, without a second copy: 40 MB at a million).
    public func linkRecords(now: Millis) -> [NegentropyRecord] {
        let nowSec = UInt64(max(0, now / 1000))
        var records: [NegentropyRecord] = []
        records.reserveCapacity(index.count)
        index.forEach { id, expiresAt in
            if expiresAt > nowSec { records.append(NegentropyRecord(timestamp: expiresAt, id: id)) }
        }
        records.sort()
        return records
    }
}
