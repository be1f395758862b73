/// Trickle's state: the current interval and what was heard in it. See the overview on `MeshNode`.
struct TrickleState: Sendable {
    var interval: Millis = 0
    var intervalStart: Millis = 0
    /// Agreeing beacons heard in this interval.
    var heard = 0
    /// When this node last beaconed: it never stays silent longer than the maximum interval, so that quiet
    /// nodes remain visible as peers.
    var lastBeaconAt: Millis = .min
}

struct RepairState: Sendable {
    /// When our inventory goes out, if nobody with our digest sends one first.
    var inventoryDue: Millis? = nil
    var lastInventoryAt: Millis = .min
    /// When a beacon last showed a node holding more than we do.
    var moreHeldElsewhereAt: Millis = .min
    /// Where the next inventory round starts (pages beyond one round are sent in later rounds).
    var inventoryCursor = 0
    /// Prefixes we lack → the node we will ask for them: of the inventories that listed them, the sender
    /// holding the most (then the lowest session), so that the nodes lacking things mostly ask the same one.
    var wanted: [UInt64: Offer] = [:]
    /// When our wants go out.
    var wantsDue: Millis? = nil
    /// Wants other nodes sent while ours wait (to any node: the round's burst pools them).
    var heardWants = HeardWants()
    /// Our inventory in the current round, if we sent one, and the best one we heard from another node.
    var ownInventory: (offer: Offer, at: Millis)? = nil
    var bestInventoryHeard: (offer: Offer, at: Millis)? = nil
    /// When each node last sent an inventory, for a round's length: an inventory sender collects the wants
    /// addressed to the other senders of its own round, not those of a later round, and a node asking for
    /// something switches to this round's sender from one whose round is over.
    var inventoryHeardAt: [UInt64: Millis] = [:]
    /// Envelopes too long for one datagram that we received or sent recently, and when: a node lacking one most
    /// likely holds a partial of it, so a repair sends parities rather than the whole envelope.
    var recentLong: [EnvelopeID: Millis] = [:]
    /// The prefixes of our last burst, and when it went: wants for them that arrive within a repair window
    /// crossed it on the way (their senders had not received it yet) and are not answered again.
    var lastBurst: (prefixes: Set<UInt64>, at: Millis)? = nil
    /// Prefixes we asked for (or heard asked for), and when: not asked again until the burst had time to come.
    var asked: [UInt64: Millis] = [:]
    /// The repair we will multicast when the wants addressed to us have had a repair window to arrive.
    var burst: Burst? = nil
    /// Coded packets received but not yet solved.
    var decoder = CodedDecoder()
    var repairTimerAt: Millis? = nil
}

/// An inventory sender that listed a prefix we lack.
struct Offer: Sendable {
    var session: UInt64
    var count: UInt32

    func isBetter(than other: Offer) -> Bool {
        (count, other.session) > (other.count, session)
    }
}

/// What the wants of a round asked, as far as we heard.
struct HeardWants: Sendable {
    var prefixes: Set<UInt64> = []
    /// The largest need among them.
    var need = 0
}

struct Burst: Sendable {
    var due: Millis
    var ids: Set<EnvelopeID> = []
    var need = 0
}
