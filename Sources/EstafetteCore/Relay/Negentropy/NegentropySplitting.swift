/// How a side splits a range whose fingerprints differ. The protocol leaves this to each side: any choice is
/// wire-compatible, it only moves bytes and round trips around. docs/negentropy.md explains the choice.
public struct NegentropySplitting: Hashable, Sendable {
    /// Fingerprinted sub-ranges per split range (the last ones take one record less when it does not divide).
    public let buckets: Int
    /// A range with fewer records than this is sent as a list of its IDs instead of being split.
    public let idListBelow: Int
    /// Whether the initiator also sends short ranges as ID lists. When false it only sends empty ones, and splits
    /// every other range into fingerprints of at most `buckets` sub-ranges (single records when the range is short).
    public let initiatorSendsIdLists: Bool

    /// The reference implementation's rules: 16 buckets, ID lists below 32 records, on both sides.
    public static let reference = NegentropySplitting(
        uncheckedBuckets: 16, idListBelow: 32, initiatorSendsIdLists: true)

    /// Estafette's rules: the reference's, except that the initiator never sends a non-empty ID list.
    ///
    /// An ID list from the initiator is answered with the responder's whole ID list for that range, so the range's
    /// IDs cross the link twice. Fingerprints of single records (at most 21 bytes each against 32 per ID) cost less,
    /// and the responder answers only the ones that differ, in the same number of round trips.
    public static let estafette = NegentropySplitting(
        uncheckedBuckets: 16, idListBelow: 32, initiatorSendsIdLists: false)

    /// Largest values that still let any one range's reply fit the smallest frame (4096 − 200 bytes): a bound takes
    /// at most 43 bytes, so a split costs at most `buckets` × 60 bytes and an ID list `idListBelow` × 32 + 54.
    /// `idListBelow` is at least 2, so a responder answers a one-record range with an ID list: every split then
    /// leaves the responder fewer records per range, and a session always ends.
    public static let maxBuckets = 60
    public static let maxIDListBelow = 115

    public init(buckets: Int, idListBelow: Int, initiatorSendsIdLists: Bool) throws(NegentropyError) {
        guard (2...Self.maxBuckets).contains(buckets) else { throw .invalidSplitting("buckets \(buckets)") }
        guard (2...Self.maxIDListBelow).contains(idListBelow) else {
            throw .invalidSplitting("idListBelow \(idListBelow)")
        }
        self.init(uncheckedBuckets: buckets, idListBelow: idListBelow, initiatorSendsIdLists: initiatorSendsIdLists)
    }

    private init(uncheckedBuckets buckets: Int, idListBelow: Int, initiatorSendsIdLists: Bool) {
        self.buckets = buckets
        self.idListBelow = idListBelow
        self.initiatorSendsIdLists = initiatorSendsIdLists
    }

    /// Whether a range of `count` records is sent as an ID list by a side in this role.
    func sendsIDList(count: Int, initiator: Bool) -> Bool {
        count == 0 || (count < idListBelow && (!initiator || initiatorSendsIdLists))
    }
}
