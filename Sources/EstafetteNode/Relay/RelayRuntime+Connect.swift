import EstafetteCore
import NIOCore
import NIOPosix

/// A connection the listener refused before any byte was read (per-IP or total cap, or shutting down).
struct RelayAdmissionRefused: Error {}

/// Where a link could not go.
struct RelayConnectError: Error, CustomStringConvertible {
    let description: String
}

extension RelayRuntime {
    /// One accepted connection, handed from the listener's initializer to its task.
    struct Accepted: Sendable {
        let handler: NIOLoopBound<RelayLinkHandler>
        let requests: AsyncStream<RelayLinkRequest>
        let remote: String
    }

    // MARK: Listening (relay role)

    /// Binds the listener. Each accepted connection gets a responder machine, unless its IP already has
    /// `maxConnectionsPerIP` links or the relay `maxConnections`: then it is closed before any byte is read.
    func bind(_ listen: RelayListenConfig) async throws -> (any Channel, AsyncStream<Accepted>) {
        let (accepted, acceptedSink) = AsyncStream.makeStream(of: Accepted.self)
        let identity = self.identity
        let settings = config.machine
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] ch in
                ch.eventLoop.makeCompletedFuture {
                    let ip = ch.remoteAddress?.ipAddress ?? "unknown"
                    guard self.admit(ip, listen: listen) else { throw RelayAdmissionRefused() }
                    ch.closeFuture.whenComplete { _ in self.release(ip) }
                    let (requests, sink) = AsyncStream.makeStream(of: RelayLinkRequest.self)
                    let machine = RelayLinkStateMachine(
                        responderWithIdentity: identity, allowedLinkKeys: listen.allowedLinkKeys, settings: settings)
                    let handler = RelayLinkHandler(machine: machine, requests: sink)
                    try ch.pipeline.syncOperations.addHandler(handler)
                    let remote = "\(ip):\(ch.remoteAddress?.port ?? 0)"
                    acceptedSink.yield(
                        Accepted(
                            handler: NIOLoopBound(handler, eventLoop: ch.eventLoop), requests: requests, remote: remote)
                    )
                }
            }
            .bind(host: listen.host, port: listen.port).get()
        state.withLockedValue { $0.boundPort = channel.localAddress?.port }
        logger.info("relay listening", metadata: ["relay.listen": "\(listen.host):\(channel.localAddress?.port ?? 0)"])
        return (channel, accepted)
    }

    /// Serves accepted links until cancelled, then closes the listener.
    func serveIncoming(_ server: (any Channel, AsyncStream<Accepted>)) async {
        let (channel, accepted) = server
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for await a in accepted {
                    let id = allocateLinkID()
                    let key = "in:\(a.remote)#\(id)"
                    state.withLockedValue {
                        $0.statuses[key] = RelayLinkStatus(
                            address: a.remote, id: "", state: "handshaking", incoming: true)
                    }
                    group.addTask {
                        let outcome = await self.serveLink(
                            id: id, handler: a.handler, requests: a.requests, statusKey: key)
                        if let e = outcome.error, !outcome.established {
                            self.logger.debug("incoming relay link refused", metadata: ["relay.reason": "\(e)"])
                        }
                        self.state.withLockedValue { $0.statuses[key] = nil }
                    }
                    if Task.isCancelled { break }
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
        try? await channel.close()
    }

    private func admit(_ ip: String, listen: RelayListenConfig) -> Bool {
        state.withLockedValue { s in
            guard !s.stopping, s.incoming < listen.maxConnections, s.perIP[ip, default: 0] < listen.maxConnectionsPerIP
            else { return false }
            s.incoming += 1
            s.perIP[ip, default: 0] += 1
            return true
        }
    }

    private func release(_ ip: String) {
        state.withLockedValue { s in
            s.incoming -= 1
            let n = s.perIP[ip, default: 1] - 1
            s.perIP[ip] = n > 0 ? n : nil
        }
    }

    // MARK: Linking out

    /// Starts a supervising task for every wanted link that has none, now and whenever the set changes.
    func superviseOutgoing() async {
        await withDiscardingTaskGroup { group in
            var changes = self.changes.makeAsyncIterator()
            repeat {
                let fresh: [RelayLinkConfig] = state.withLockedValue { s in
                    let new = s.desired.values.filter { !s.supervised.contains($0.address) }
                    for c in new { s.supervised.insert(c.address) }
                    return Array(new)
                }
                for c in fresh { group.addTask { await self.superviseLink(c.address) } }
            } while await changes.next() != nil
        }
    }

    /// Keeps one outgoing link up while it is wanted: connect, serve, and after a failure wait a backoff delay.
    func superviseLink(_ address: String) async {
        var backoff = RelayBackoff(initialMillis: config.backoffInitialMillis, maxMillis: config.backoffMaxMillis)
        defer { state.withLockedValue { _ = $0.supervised.remove(address) } }
        while !Task.isCancelled {
            guard let link = state.withLockedValue({ $0.stopping ? nil : $0.desired[address] }) else { return }
            state.withLockedValue { s in
                if s.statuses[address] == nil {
                    s.statuses[address] = RelayLinkStatus(
                        address: address, id: PublicID(key: link.pinnedID).description, state: "connecting")
                }
                s.statuses[address]?.state = "connecting"
            }
            let id = allocateLinkID()
            var refused = false
            do {
                let (handler, requests) = try await connect(link)
                updateStatus(address) { $0.state = "handshaking" }
                let outcome = await serveLink(id: id, handler: handler, requests: requests, statusKey: address)
                if outcome.established { backoff.reset() }
                if let e = outcome.error {
                    refused = !outcome.established
                    logger.info(
                        outcome.established ? "relay link closed" : "relay link refused",
                        metadata: ["relay.addr": "\(address)", "relay.reason": "\(e)"])
                }
            } catch {
                logger.info("cannot connect to relay", metadata: ["relay.addr": "\(address)", "error": "\(error)"])
            }
            let delay = backoff.next(random: Double.random(in: 0..<1))
            updateStatus(address) { $0.state = refused ? "refused" : "backoff" }
            do {
                try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
            } catch {
                return
            }
        }
    }

    /// Opens a TCP connection to `link` with an initiator machine on it.
    func connect(_ link: RelayLinkConfig) async throws -> (
        NIOLoopBound<RelayLinkHandler>, AsyncStream<RelayLinkRequest>
    ) {
        guard let address = RelayAddress(link.address) else {
            throw RelayConnectError(description: "'\(link.address)' is not host:port")
        }
        let machine = try RelayLinkStateMachine(
            initiatorWithLinkKey: config.linkKey, relay: link.pinnedID,
            localRole: config.listen == nil ? .node : .relay,
            settings: config.machine)
        let (requests, sink) = AsyncStream.makeStream(of: RelayLinkRequest.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(RelayLinkHandler(machine: machine, requests: sink))
                }
            }
            .connect(host: address.host, port: address.port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(
                try channel.pipeline.syncOperations.handler(type: RelayLinkHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return (handler, requests)
    }
}
