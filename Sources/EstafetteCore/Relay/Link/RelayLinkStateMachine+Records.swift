extension RelayLinkStateMachine {
    /// How an envelope handed over with `.deliver` ended.
    public enum Settlement: Sendable, Hashable {
        /// Committed to the store as new.
        case committedNew
        /// Already held (committed before this one was settled).
        case duplicate
        /// Refused by validation: it will never be stored, so it is acknowledged too.
        case refused
        /// The store failed: the link closes without acknowledging it.
        case storeFailed
    }

    /// One transport message after the handshake.
    mutating func onTransportMessage(_ message: [UInt8], now: Millis, into actions: inout [Action]) {
        let plaintext: [UInt8]
        do throws(NoiseError) {
            plaintext = try transport!.decrypt(message)
        } catch {
            fail(.transport(error), into: &actions)
            return
        }
        do throws(RelayLinkError) {
            try onRecord(try RelayRecord(decoding: plaintext), now: now, into: &actions)
        } catch {
            fail(error, into: &actions)
        }
    }

    private mutating func onRecord(_ record: RelayRecord, now: Millis, into actions: inout [Action])
        throws(RelayLinkError)
    {
        switch record {
        case .negentropy(let m):
            stats.negentropyBytes += m.count
            try onNegentropy(m, now: now, into: &actions)
        case .want(let ids):
            for id in ids { enqueue(id, live: false) }
            pump(into: &actions)
        case .syncDone:
            guard role == .responder else { throw .unexpectedRecord("syncDone to an initiator") }
            negentropy = nil
            stats.syncRounds += 1
            actions.append(.syncCompleted)
        case .envelope(let bytes), .live(let bytes):
            let inFlight = receivedCount - ackSent
            guard inFlight < UInt64(settings.receiveWindow) else { throw .windowExceeded(Int(inFlight) + 1) }
            stats.envelopeRecordsIn += 1
            actions.append(.deliver(bytes, sequence: receivedCount))
            receivedCount += 1
        case .ack(let n):
            guard n >= ackReceived, n <= sentCount else { throw .badAck(n) }
            stats.envelopesAcked += Int(n - ackReceived)
            ackReceived = n
            pump(into: &actions)
        case .keepalive:
            break
        case .close(let reason):
            fail(.peerClosed("\(reason)"), into: &actions)
        }
    }

    /// The shell settled the envelope it was handed as `.deliver(_, sequence:)`. Acknowledgements go out in
    /// order and cumulatively: when a quarter of the window is settled, or everything received is.
    public mutating func settled(sequence: UInt64, _ result: Settlement, now: Millis) -> [Action] {
        var actions: [Action] = []
        guard phase == .established, sequence >= settledPrefix, sequence < receivedCount else { return actions }
        switch result {
        case .storeFailed:
            fail(.storeFailed, into: &actions)
            return actions
        case .committedNew:
            stats.envelopesReceived += 1
        case .duplicate, .refused:
            break
        }
        settledAhead.insert(sequence)
        while settledAhead.remove(settledPrefix) != nil { settledPrefix += 1 }
        let pending = settledPrefix - ackSent
        if pending > 0 && (settledPrefix == receivedCount || pending >= UInt64(max(1, settings.receiveWindow / 4))) {
            ackSent = settledPrefix
            sendRecord(.ack(settledPrefix), now: now, into: &actions)
        }
        return actions
    }

    /// A timer the machine asked for is due.
    public mutating func timerFired(_ timer: Timer, now: Millis) -> [Action] {
        var actions: [Action] = []
        switch (timer, phase) {
        case (_, .closed), (_, .created):
            break
        case (.handshake, .handshaking):
            fail(.handshakeTimeout, into: &actions)
        case (.handshake, .established):
            break
        case (.keepalive, .established):
            if now - lastSent >= settings.keepaliveMillis { sendRecord(.keepalive, now: now, into: &actions) }
            actions.append(.scheduleTimer(.keepalive, at: lastSent + settings.keepaliveMillis))
        case (.idle, .established):
            if now - lastReceived >= settings.idleTimeoutMillis {
                fail(.idleTimeout, into: &actions)
            } else {
                actions.append(.scheduleTimer(.idle, at: lastReceived + settings.idleTimeoutMillis))
            }
        case (.resync, .established):
            if role == .initiator && !reconciling && !snapshotPending { beginRound(into: &actions) }
        case (.keepalive, .handshaking), (.idle, .handshaking), (.resync, .handshaking):
            break
        }
        return actions
    }
}
