/// An envelope as the store keeps it.
public struct StoredEnvelope: Hashable, Sendable {
    public let id: EnvelopeID
    public let kind: Envelope.Kind
    public let expiresAt: UInt64
    public let bytes: [UInt8]

    public init(id: EnvelopeID, kind: Envelope.Kind, expiresAt: UInt64, bytes: [UInt8]) {
        self.id = id
        self.kind = kind
        self.expiresAt = expiresAt
        self.bytes = bytes
    }
}
