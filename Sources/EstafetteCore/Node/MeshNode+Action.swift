extension MeshNode {
    public enum Timer: Hashable, Sendable {
        /// Trickle: the moment in the current interval to beacon, unless enough agreeing beacons were heard.
        case beacon
        /// Trickle: the end of the current interval.
        case interval
        /// Queued repair work (an inventory, wants, a burst) is due.
        case repair
        /// Expired envelopes are forgotten.
        case sweep
    }

    /// What the shell must do, in order.
    public enum Action: Sendable, Equatable {
        /// Send this datagram to the mesh group on every LAN interface except the one numbered `except`.
        case multicast([UInt8], except: Int?)
        /// Commit this envelope, with its message when it was for us, durably and atomically. Call `storeFailed`
        /// if that fails. Until it is committed, the `EnvelopeLookup` passed with later events must find it.
        /// A message with `acknowledges` set is a delivery receipt the node accepted: it never enters the inbox;
        /// it marks the sent message it names delivered. Once committed, tell the node where each message went
        /// (`committed(_:lifetimeSeconds:now:)`), which may answer with receipts to send.
        case store(StoredEnvelope, message: ReceivedMessage?)
        /// Delete stored envelopes that expired at or before this time (Unix seconds).
        case deleteExpired(upTo: UInt64)
        /// Call `timerFired(timer, now:store:)` at this time, replacing any earlier schedule of the same timer.
        case scheduleTimer(Timer, at: Millis)
    }
}
