import NIOCore

extension RelayLinkStateMachine {
    /// The connection is open: the initiator sends message 1 (its hello); both sides start the handshake timer.
    public mutating func start(now: Millis) -> [Action] {
        var actions: [Action] = []
        guard phase == .created else { return actions }
        phase = .handshaking
        lastReceived = now
        lastSent = now
        actions.append(.scheduleTimer(.handshake, at: now + settings.handshakeTimeoutMillis))
        if role == .initiator {
            do throws(NoiseError) {
                let message = try handshake!.writeMessage(payload: localHello.encoded())
                sendFrame(message, now: now, into: &actions)
            } catch {
                fail(.handshake(error), into: &actions)
            }
        }
        return actions
    }

    /// Bytes read from the connection, in any chunking: every whole frame in them is handled in order.
    public mutating func receive(_ bytes: some Collection<UInt8>, now: Millis) -> [Action] {
        var actions: [Action] = []
        guard phase == .handshaking || phase == .established else { return actions }
        stats.bytesIn += bytes.count
        lastReceived = now
        // Feed at most one largest frame at a time and drain after each, so the decoder (two frames of
        // capacity) never overflows however large a read the shell hands over.
        var rest = bytes[...]
        while !rest.isEmpty && phase != .closed {
            let piece = rest.prefix(NoiseFrame.headerLength + NoiseFrame.maxMessageLength)
            rest = rest.dropFirst(piece.count)
            do throws(NoiseFrameError) {
                try decoder.receive(piece)
            } catch {
                fail(.frame(error), into: &actions)
                return actions
            }
            drainFrames(now: now, into: &actions)
        }
        return actions
    }

    /// Handles every whole frame the decoder holds.
    private mutating func drainFrames(now: Millis, into actions: inout [Action]) {
        while phase == .handshaking || phase == .established {
            let frame: [UInt8]
            do throws(NoiseFrameError) {
                guard let f = try decoder.nextFrame() else { return }
                frame = f
            } catch {
                fail(.frame(error), into: &actions)
                return
            }
            if phase == .handshaking {
                onHandshakeMessage(frame, now: now, into: &actions)
            } else {
                onTransportMessage(frame, now: now, into: &actions)
            }
        }
    }

    private mutating func onHandshakeMessage(_ message: [UInt8], now: Millis, into actions: inout [Action]) {
        guard var hs = handshake else { return }
        handshake = nil
        do throws(RelayLinkError) {
            switch role {
            case .initiator:
                // Message 2: the relay's hello. A relay that does not hold the pinned key cannot have made it.
                let payload: [UInt8]
                do {
                    payload = try hs.readMessage(message)
                } catch  where error == .decryptionFailed {
                    throw .pinMismatch
                } catch {
                    throw .handshake(error)
                }
                authenticated = true
                let hello = try RelayHello(decoding: payload)
                let message3: [UInt8]
                let transport: NoiseTransport
                do {
                    message3 = try hs.writeMessage(payload: [])
                    transport = try hs.finish()
                } catch {
                    throw .handshake(error)
                }
                sendFrame(message3, now: now, into: &actions)
                establish(transport, peerKey: hs.remoteStaticKey ?? [], hello: hello, now: now, into: &actions)
            case .responder:
                if peerHello == nil {
                    try onFirstMessage(message, handshake: &hs, now: now, into: &actions)
                    handshake = hs
                } else {
                    // Message 3: the initiator's link key, proven.
                    do {
                        _ = try hs.readMessage(message)
                    } catch {
                        throw .handshake(error)
                    }
                    let key = hs.remoteStaticKey ?? []
                    guard allowedLinkKeys.isEmpty || allowedLinkKeys.contains(key) else {
                        throw .linkKeyNotAllowed
                    }
                    authenticated = true
                    let transport: NoiseTransport
                    do {
                        transport = try hs.finish()
                    } catch {
                        throw .handshake(error)
                    }
                    establish(transport, peerKey: key, hello: peerHello!, now: now, into: &actions)
                }
            }
        } catch {
            fail(error, into: &actions)
        }
    }

    /// The relay reads message 1 and answers with message 2, never longer than what it has received.
    private mutating func onFirstMessage(
        _ message: [UInt8], handshake hs: inout NoiseHandshake, now: Millis, into actions: inout [Action]
    ) throws(RelayLinkError) {
        let payload: [UInt8]
        do {
            payload = try hs.readMessage(message)
        } catch {
            throw .handshake(error)
        }
        let hello = try RelayHello(decoding: payload)
        peerHello = hello
        let reply: [UInt8]
        do {
            reply = try hs.writeMessage(payload: localHello.encoded())
        } catch {
            throw .handshake(error)
        }
        let out = stats.bytesOut + NoiseFrame.headerLength + reply.count
        guard out <= stats.bytesIn else { throw .unauthenticatedBytes(out, stats.bytesIn) }
        sendFrame(reply, now: now, into: &actions)
    }

    private mutating func establish(
        _ transport: NoiseTransport, peerKey: [UInt8], hello: RelayHello, now: Millis, into actions: inout [Action]
    ) {
        self.transport = transport
        peerStaticKey = peerKey
        peerHello = hello
        phase = .established
        decoder.maximumFrameLength = NoiseFrame.maxMessageLength
        actions.append(.established(peerStaticKey: peerKey, hello: hello))
        actions.append(.scheduleTimer(.keepalive, at: lastSent + settings.keepaliveMillis))
        actions.append(.scheduleTimer(.idle, at: lastReceived + settings.idleTimeoutMillis))
        if role == .initiator { beginRound(into: &actions) }
    }

    // MARK: Sending

    /// Frames `message` and appends it to the bytes to send.
    mutating func sendFrame(_ message: [UInt8], now: Millis, into actions: inout [Action]) {
        var buf = ByteBuffer()
        buf.reserveCapacity(NoiseFrame.headerLength + message.count)
        do throws(NoiseFrameError) {
            try buf.writeNoiseFrame(message)
        } catch {
            fail(.frame(error), into: &actions)
            return
        }
        stats.bytesOut += buf.readableBytes
        lastSent = now
        // Consecutive sends coalesce into one write.
        if case .send(var previous)? = actions.last {
            // Removing the action first leaves `previous` the only reference, so appending does not copy.
            actions.removeLast()
            previous.append(contentsOf: buf.readableBytesView)
            actions.append(.send(previous))
        } else {
            actions.append(.send(Array(buf.readableBytesView)))
        }
    }

    /// Seals `record` into one transport message and sends it.
    mutating func sendRecord(_ record: RelayRecord, now: Millis, into actions: inout [Action]) {
        guard transport != nil else { return }
        do throws(NoiseError) {
            let sealed = try transport!.encrypt(record.encoded())
            sendFrame(sealed, now: now, into: &actions)
        } catch {
            fail(.transport(error), into: &actions)
        }
    }
}
