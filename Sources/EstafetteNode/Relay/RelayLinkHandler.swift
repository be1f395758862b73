import EstafetteCore
import NIOCore

/// What a link's handler asks of the runtime, in order. The runtime's task for the link answers through the
/// handler's methods on its event loop.
enum RelayLinkRequest: Sendable {
    /// The handshake is over (the status moves to `syncing`).
    case established(peerStaticKey: [UInt8], hello: RelayHello)
    /// Call `snapshot(_:)` with the records of the unexpired envelopes held.
    case snapshot
    /// Call `fetched(_:)` with those of these envelopes the store holds.
    case fetch([EnvelopeID])
    /// Validate and commit; call `settled(sequence:_:)` once durable or refused.
    case deliver([UInt8], sequence: UInt64)
    /// A reconciliation round ended.
    case syncCompleted(RelayLinkStateMachine.Stats)
    /// The counters, at most once a second while they change (for `relays.list`).
    case progress(RelayLinkStateMachine.Stats)
    /// The link is closed (`error` nil for an orderly close); no request follows.
    case closed(RelayLinkError?, RelayLinkStateMachine.Stats)
}

/// The NIO glue of one relay link: bytes and timers into the `RelayLinkStateMachine`, its actions out to the
/// socket, its timers to the event loop and its requests to the runtime. It decides nothing itself.
final class RelayLinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: RelayLinkStateMachine
    private let requests: AsyncStream<RelayLinkRequest>.Continuation
    private var timers: [RelayLinkStateMachine.Timer: Scheduled<Void>] = [:]
    private var context: ChannelHandlerContext?
    private var finished = false
    private var lastProgress: Millis = 0
    private var reportedStats = RelayLinkStateMachine.Stats()

    init(machine: RelayLinkStateMachine, requests: AsyncStream<RelayLinkRequest>.Continuation) {
        self.machine = machine
        self.requests = requests
    }

    /// The machine's counters (on the event loop).
    var stats: RelayLinkStateMachine.Stats { machine.stats }
    var phase: RelayLinkStateMachine.Phase { machine.phase }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { perform(machine.start(now: wallClockMillis())) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
        finish(machine.failure)
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.start(now: wallClockMillis()))
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        perform(machine.receive(buffer.readableBytesView, now: wallClockMillis()))
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.peerClosed(now: wallClockMillis()))
        cancelTimers()
        finish(machine.failure)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.peerClosed(now: wallClockMillis()))
    }

    // MARK: Answers from the runtime (on the event loop)

    func snapshot(_ records: [NegentropyRecord]) {
        perform(machine.snapshot(records, now: wallClockMillis()))
    }

    func fetched(_ envelopes: [StoredEnvelope]) {
        perform(machine.fetched(envelopes, now: wallClockMillis()))
    }

    func settled(sequence: UInt64, _ settlement: RelaySettlement) {
        let result: RelayLinkStateMachine.Settlement
        switch settlement {
        case .committed(let new): result = new ? .committedNew : .duplicate
        case .refused: result = .refused
        case .storeFailed: result = .storeFailed
        }
        perform(machine.settled(sequence: sequence, result, now: wallClockMillis()))
    }

    func offer(_ ids: [EnvelopeID]) {
        let now = wallClockMillis()
        for id in ids { perform(machine.offer(id, now: now)) }
    }

    /// Shutdown or link removed: a close record, then the connection is closed.
    func shutdown() {
        perform(machine.close(.shuttingDown, now: wallClockMillis()))
    }

    // MARK: Carrying out actions

    private func perform(_ actions: [RelayLinkStateMachine.Action]) {
        guard let context else { return }
        var wrote = false
        for action in actions {
            switch action {
            case .send(let bytes):
                var buffer = context.channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                context.write(wrapOutboundOut(buffer), promise: nil)
                wrote = true
            case .scheduleTimer(let timer, let at):
                schedule(timer, at: at, context: context)
            case .established(let key, let hello):
                requests.yield(.established(peerStaticKey: key, hello: hello))
            case .requestSnapshot:
                requests.yield(.snapshot)
            case .fetch(let ids):
                requests.yield(.fetch(ids))
            case .deliver(let bytes, let sequence):
                requests.yield(.deliver(bytes, sequence: sequence))
            case .syncCompleted:
                requests.yield(.syncCompleted(machine.stats))
            case .close(let error):
                if wrote { context.flush() }
                wrote = false
                cancelTimers()
                finish(error)
                context.close(promise: nil)
            }
        }
        if wrote { context.flush() }
        let now = wallClockMillis()
        if !finished && now - lastProgress >= 1_000 && machine.stats != reportedStats {
            lastProgress = now
            reportedStats = machine.stats
            requests.yield(.progress(reportedStats))
        }
    }

    private func schedule(_ timer: RelayLinkStateMachine.Timer, at: Millis, context: ChannelHandlerContext) {
        timers[timer]?.cancel()
        let delay = max(0, at - wallClockMillis())
        timers[timer] = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) {
            self.timers[timer] = nil
            self.perform(self.machine.timerFired(timer, now: wallClockMillis()))
        }
    }

    private func cancelTimers() {
        for t in timers.values { t.cancel() }
        timers.removeAll()
    }

    private func finish(_ error: RelayLinkError?) {
        guard !finished else { return }
        finished = true
        requests.yield(.closed(error, machine.stats))
        requests.finish()
    }
}

@available(*, unavailable)
extension RelayLinkHandler: Sendable {}
