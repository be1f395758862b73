/// One side of a Negentropy protocol v1 reconciliation, sans-IO: messages in, messages out.
///
/// The **initiator** calls `initiate()` once and sends the bytes; then, for every message that comes back, calls
/// `reconcile(_:)`, which returns the IDs it has that the other side lacks (`have`), the IDs it lacks (`need`), and
/// the next message to send, or nil once both sides know everything. The **responder** answers every message with
/// `respond(to:)` and never learns when the initiator is done (the link says so).
///
/// Work per message is bounded by the message size and the storage: each range costs one binary search and at most
/// one fingerprint or one pass over the records it covers, and ranges never overlap. With a frame size limit every
/// message this side builds fits the limit. Without one (0), a reply to an ID list for the whole space is the whole
/// store's IDs: links between strangers should set a limit.
public struct NegentropySession: Sendable {
    /// What the initiator learnt from one message, and what to send next.
    public struct Reconciliation: Hashable, Sendable {
        /// The next message for the responder; nil when reconciliation is complete.
        public var reply: [UInt8]?
        /// IDs this side has and the responder lacks, found in this message.
        public var have: [EnvelopeID]
        /// IDs the responder has and this side lacks, found in this message.
        public var need: [EnvelopeID]
    }

    private enum State: Sendable {
        case fresh
        case initiator
        case responder
        case done
        case failed
    }

    /// The protocol's smallest frame size limit.
    public static let minimumFrameSizeLimit = 4096
    /// Room kept free under the limit while building a message, for the closing range (as the reference does).
    static let frameSizeMargin = 200

    public let storage: NegentropyStorage
    public let splitting: NegentropySplitting
    /// Largest message this side builds, in bytes; 0 for no limit.
    public let frameSizeLimit: Int
    private var state: State = .fresh

    /// A session over `storage`. `frameSizeLimit` is 0 (none) or at least 4096 bytes.
    public init(
        storage: NegentropyStorage, splitting: NegentropySplitting = .estafette, frameSizeLimit: Int = 0
    ) throws(NegentropyError) {
        guard frameSizeLimit == 0 || frameSizeLimit >= Self.minimumFrameSizeLimit else {
            throw .frameSizeLimitTooSmall(frameSizeLimit)
        }
        self.storage = storage
        self.splitting = splitting
        self.frameSizeLimit = frameSizeLimit
    }

    /// True once the initiator has everything it asked for.
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// The initiator's first message: the whole space, split by the splitting rules.
    public mutating func initiate() throws(NegentropyError) -> [UInt8] {
        guard case .fresh = state else { throw .wrongRole("initiate() on a session already in use") }
        state = .initiator
        var out = NegentropyWriter()
        writeSplit(0..<storage.count, upperBound: .infinity, initiator: true, into: &out)
        return out.bytes
    }

    /// The initiator's step: reads the responder's message and returns what it learnt and what to send next.
    public mutating func reconcile(_ message: [UInt8]) throws(NegentropyError) -> Reconciliation {
        switch state {
        case .initiator: break
        case .fresh, .responder: throw .wrongRole("reconcile(_:) before initiate()")
        case .done: throw .finished
        case .failed: throw .failed
        }
        do throws(NegentropyError) {
            let decoded = try NegentropyMessage(decoding: message)
            guard decoded.version == NegentropyMessage.version else {
                throw NegentropyError.unsupportedVersion(decoded.version)
            }
            var result = process(decoded, initiator: true)
            if result.reply?.count == 1 {
                result.reply = nil
                state = .done
            }
            return result
        } catch {
            state = .failed
            throw error
        }
    }

    /// The responder's step: the answer to one message from the initiator. A message in another protocol version
    /// (0x60…0x6F) is answered with the one byte 0x61, the version this side speaks.
    public mutating func respond(to message: [UInt8]) throws(NegentropyError) -> [UInt8] {
        switch state {
        case .fresh, .responder: break
        case .initiator, .done: throw .wrongRole("respond(to:) on an initiator")
        case .failed: throw .failed
        }
        do throws(NegentropyError) {
            let decoded = try NegentropyMessage(decoding: message)
            state = .responder
            guard decoded.version == NegentropyMessage.version else { return [NegentropyMessage.version] }
            return process(decoded, initiator: false).reply ?? [NegentropyMessage.version]
        } catch {
            state = .failed
            throw error
        }
    }
}
