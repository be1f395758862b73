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
    /// When the last round started (our inventory, or a trusted node's inventory or want).
    var lastInventoryAt: Millis = .min
    /// When our own last inventory went out.
    var lastOwnInventoryAt: Millis = .min
    /// When a beacon last showed a node holding more than we do.
    var moreHeldElsewhereAt: Millis = .min
    /// The source whose beacon claimed more than we hold and that we defer to, and since when: it must send its
    /// inventory within `claimDeadlineMillis`, or it is distrusted.
    var claimedMore: (source: String, at: Millis)? = nil
    /// Since when our inventory has been due (a beacon or inventory showed a node that may lack what we hold)
    /// without going out, and when that was last confirmed: past `maxDeferralMillis` the sources that deferred it
    /// are distrusted (see `ClaimLedger`).
    var owedSince: Millis? = nil
    var owedConfirmedAt: Millis = .min
    /// The sources whose packets made our inventory due, and when each last asked: they pay for it (see
    /// `answers`). A request is answered by the next round that goes out, ours or an identical one from another
    /// node (then they are forgotten), and lapses after `MeshNode.inventoryRequestLapse`: a node that still
    /// disagrees asks again with its next beacon. A request left over from a round someone else answered must
    /// not let a later round, asked for by a forger, be paid with an honest peer's credit (measured: 20-37×).
    var inventoryRequesters: [String: Millis] = [:]
    /// Whose claims we still act on: a source whose deferral failed is not believed for a while (its coded
    /// repairs are still taken).
    var claims = ClaimLedger()
    /// Sources caught sending junk: neither their claims nor their coded packets are taken for a while.
    var junk = ClaimLedger()
    /// Bytes we may send in answer to each source: earned by the bytes of the requests it sends (beacons,
    /// inventories, wants; `answerBytesPerByte` each), spent by the inventories and bursts it asked for, and valid
    /// for 60 s after it was earned (`AnswerCredit`), so no credit is saved up for longer. (5 s or 10 s starved an
    /// honest node's catch-up: Trickle spaces its beacons out; docs/security.md, property 5.) At most 40 KB at
    /// once, the cost of the longest envelope whole (its fragments and parity), which must stay repairable.
    var answers = AnswerCredit(cap: 40_960, lifetime: 60_000)
    /// Decoding work a source may cost us (members of its coded packets: each may be a store look-up).
    var codedWork = SourceBudgets(rate: .init(burst: 4_096, perSecond: 2_048), maxSources: 256)
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
    /// When our wants were last suppressed by wants we heard, from which sources, and what we lacked then: if we
    /// still lack all of it when we next ask, that burst never came and those sources are distrusted.
    var wantsSuppressed: (by: Set<String>, missing: Set<UInt64>, at: Millis)? = nil
    /// The better node we deferred our last burst to, what the burst held, and when: wants for the same
    /// envelopes addressed to us again mean its burst never came.
    var burstDeferredTo: (source: String, prefixes: Set<UInt64>, at: Millis)? = nil
    /// Coded packets received but not yet solved, one decoder per source, so that a junk row costs only its
    /// sender's decoder.
    var decoders: [String: CodedDecoder] = [:]
    /// The same rows from every source we believe, combined: see `MeshNode.onCoded`.
    var sharedDecoder = CodedDecoder()
    var repairTimerAt: Millis? = nil
    /// Range summaries: our answers for sub-ranges where we differ, waiting for their suppression delay, and
    /// when we last sent one for each range (not again within a round).
    var rangeAnswers: [RangeKey: PendingRangeAnswer] = [:]
    var rangeAnswered: [RangeKey: Millis] = [:]
}

/// An inventory sender that listed a prefix we lack.
struct Offer: Sendable {
    var session: UInt64
    var count: UInt32
    /// Where it came from (not part of the order).
    var source: String = ""

    func isBetter(than other: Offer) -> Bool {
        (count, other.session) > (other.count, session)
    }
}

/// What the wants of a round asked, as far as we heard.
struct HeardWants: Sendable {
    var prefixes: Set<UInt64> = []
    /// The largest need among them.
    var need = 0
    /// Who sent them (bounded like `ClaimLedger.maxDeferrers`).
    var sources: Set<String> = []
}

struct Burst: Sendable {
    var due: Millis
    var ids: Set<EnvelopeID> = []
    var need = 0
    /// The sources of the wants it answers, by envelope (a few each): each envelope is paid by a source that asked
    /// for it, so that nobody spends another's budget.
    var askedBy: [EnvelopeID: [String]] = [:]
    /// How many times it was put off because its requesters could not pay for all of it yet.
    var retries = 0
}
