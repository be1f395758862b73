/// Read access to the envelopes a shell has stored, or queued for storing: the core keeps only their IDs and
/// expiries (a relay's store can outgrow its memory). The shell passes one with each event that may need bodies,
/// `MeshNode.receive` (a coded packet's members that the node holds are subtracted) and `MeshNode.timerFired` (a
/// repair burst is built from the envelopes asked for); the node reads it at most once per event, and never keeps
/// it. See docs/decisions.md ("The core reads the store through one lookup per event").
public protocol EnvelopeLookup {
    /// The envelopes among `ids` that are stored, in any order; IDs that are not are left out.
    func envelopes(_ ids: [EnvelopeID]) -> [StoredEnvelope]
}

/// An in-memory store (tests, benchmarks) is a lookup.
extension Dictionary: EnvelopeLookup where Key == EnvelopeID, Value == StoredEnvelope {
    public func envelopes(_ ids: [EnvelopeID]) -> [StoredEnvelope] { ids.compactMap { self[$0] } }
}
