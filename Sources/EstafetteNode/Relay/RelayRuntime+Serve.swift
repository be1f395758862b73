import EstafetteCore
import NIOCore

extension RelayRuntime {
    /// How a link ended.
    struct LinkOutcome: Sendable {
        /// Whether the handshake finished.
        var established: Bool
        var error: RelayLinkError?
    }

    /// Answers one link's requests with the node until the link closes. Keeps the status under `statusKey`.
    func serveLink(
        id: Int, handler: NIOLoopBound<RelayLinkHandler>, requests: AsyncStream<RelayLinkRequest>,
        statusKey: String
    ) async -> LinkOutcome {
        let registered = state.withLockedValue { s in
            if !s.stopping { s.handlers[id] = handler }
            return !s.stopping
        }
        if !registered { handler.eventLoop.execute { handler.value.shutdown() } }
        defer {
            state.withLockedValue { s in
                s.handlers[id] = nil
                s.live[id] = nil
            }
        }
        let base = state.withLockedValue { $0.statuses[statusKey] } ?? RelayLinkStatus(address: "", id: "", state: "")
        var outcome = LinkOutcome(established: false, error: nil)
        let loop = handler.eventLoop
        // The peer's static key, once the handshake proves it: what the relay quota charges.
        var peerKey: [UInt8]? = nil
        for await request in requests {
            switch request {
            case .established(let key, let hello):
                outcome.established = true
                peerKey = Array(key)
                state.withLockedValue { s in
                    s.live[id] = LiveLink(handler: handler, statusKey: statusKey)
                    s.statuses[statusKey]?.state = "syncing"
                    if s.statuses[statusKey]?.incoming == true { s.statuses[statusKey]?.id = Self.hex(key) }
                }
                logger.info(
                    "relay link established",
                    metadata: [
                        "relay.link": "\(statusKey)", "relay.peer_role": "\(hello.role)",
                        "relay.peer_window": "\(hello.receiveWindow)",
                    ])
            case .snapshot:
                let records = await port.relayRecords()
                loop.execute { handler.value.snapshot(records) }
            case .fetch(let ids):
                let envelopes = await port.relayEnvelopes(ids)
                loop.execute { handler.value.fetched(envelopes) }
            case .deliver(let bytes, let sequence):
                if let quota = config.quota, let peerKey {
                    let admission: RelayAdmission
                    do {
                        admission = try await quota.admit(encoded: bytes, linkKey: peerKey, now: wallClockMillis())
                    } catch {
                        loop.execute { handler.value.settled(sequence: sequence, .storeFailed) }
                        continue
                    }
                    switch admission {
                    case .admitted:
                        break
                    case .refusedOverShare, .refusedFull:
                        // Acknowledged, not stored: the peer does not send it again on this link.
                        loop.execute { handler.value.settled(sequence: sequence, .refused("over_quota")) }
                        continue
                    }
                }
                await port.relayReceive(bytes, link: id) { settlement in
                    loop.execute { handler.value.settled(sequence: sequence, settlement) }
                }
            case .progress(let stats):
                record(stats, base: base, key: statusKey, id: id)
            case .syncCompleted(let stats):
                record(stats, base: base, key: statusKey, id: id)
                updateStatus(statusKey) { s in
                    s.state = "live"
                    s.lastSync = wallClockMillis()
                }
                logger.debug(
                    "relay link reconciled",
                    metadata: [
                        "relay.link": "\(statusKey)", "relay.negentropy_bytes": "\(stats.negentropyBytes)",
                        "relay.queued": "\(stats.envelopeRecordsOut)",
                    ])
            case .closed(let error, let stats):
                record(stats, base: base, key: statusKey)
                outcome.error = error
                state.withLockedValue { s in
                    s.linkStats[id] = nil
                    s.closedAcked += stats.envelopesAcked
                    s.closedReceived += stats.envelopesReceived
                    if !outcome.established && error != nil { s.refusals += 1 }
                }
            }
        }
        return outcome
    }

    private func record(_ stats: RelayLinkStateMachine.Stats, base: RelayLinkStatus, key: String, id: Int? = nil) {
        if let id { state.withLockedValue { $0.linkStats[id] = stats } }
        updateStatus(key) { s in
            s.envelopesSent = base.envelopesSent + stats.envelopesAcked
            s.envelopesReceived = base.envelopesReceived + stats.envelopesReceived
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }, as: UTF8.self)
    }
}
