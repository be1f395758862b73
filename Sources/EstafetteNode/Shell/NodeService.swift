import EstafetteCore
import Logging
import ServiceLifecycle

/// Runs the LAN side of a node: keeps the multicast transport joined on the right interfaces, and feeds datagrams
/// and timer ticks to the shell.
///
/// Interfaces are re-examined every few seconds: a laptop that joins a Wi-Fi after the daemon started, or an
/// interface whose address changes, is picked up without a restart.
public struct NodeService: Service, CustomStringConvertible {
    let shell: NodeShell
    let config: NodeConfig
    let logger: Logger
    /// Granularity of protocol timers.
    static let tickMillis: UInt64 = 50
    /// How often interfaces are re-examined.
    static let rescanSeconds: UInt64 = 5

    public var description: String { "NodeService" }

    public init(shell: NodeShell, config: NodeConfig, logger: Logger) {
        self.shell = shell
        self.config = config
        self.logger = logger
    }

    /// Refuses interface names that do not exist on this host, so a typo stops the daemon with a clear error.
    /// (An existing interface without an address yet is waited for.)
    public static func validateInterfaces(_ config: NodeConfig) throws {
        let unknown = LANTransport.unknownInterfaceNames(config.lanInterfaces)
        guard unknown.isEmpty else {
            throw LANError(
                description:
                    "no network interface named \(unknown.map { "'\($0)'" }.joined(separator: ", ")) on this host")
        }
    }

    public func run() async throws {
        await shell.start()
        let shell = self.shell
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.superviseLAN() }
                    group.addTask { await shell.runFlusher() }
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(nanoseconds: Self.tickMillis * 1_000_000)
                            await shell.tick()
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
        await shell.attach(nil)
        await shell.flushOnce()  // whatever arrived while shutting down
        logger.info("LAN transport stopped")
    }

    /// Joins the current interfaces, serves them until the set changes, and starts over.
    func superviseLAN() async throws {
        var lastProblems: [String] = []
        while !Task.isCancelled {
            let interfaces: [LANInterface]
            let problems: [String]
            do {
                (interfaces, problems) = try LANTransport.chooseInterfaces(
                    names: config.lanInterfaces, ipv6: config.lanIPv6)
            } catch {
                // getifaddrs failed (e.g. no file descriptor left): a passing condition, not a reason to stop.
                logger.error("cannot list the network interfaces", metadata: ["error": "\(error)"])
                try await Task.sleep(nanoseconds: Self.rescanSeconds * 1_000_000_000)
                continue
            }
            if problems != lastProblems {
                for p in problems { logger.warning("LAN interface not usable", metadata: ["reason": "\(p)"]) }
                lastProblems = problems
            }
            if interfaces.isEmpty {
                if problems.isEmpty {
                    logger.warning("no multicast-capable LAN interface; waiting for one (or set lan.interfaces)")
                }
                try await waitForChange(from: [])
                continue
            }
            let transport: LANTransport
            do {
                transport = try await LANTransport.start(
                    groupHost: config.lanGroup, port: config.lanPort, interfaces: interfaces,
                    staticPeers: config.lanPeers, broadcast: config.lanBroadcast, ipv6: config.lanIPv6,
                    // Three of Trickle's longest beacon intervals without a multicast from anyone.
                    pathWindowMillis: max(3_000, 48 * config.beaconIntervalMillis), logger: logger)
            } catch {
                logger.error("cannot join the LAN group", metadata: ["error": "\(error)"])
                try await Task.sleep(nanoseconds: Self.rescanSeconds * 1_000_000_000)
                continue
            }
            await shell.attach(transport)
            let shell = self.shell
            let signature = LANTransport.signature(interfaces)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await d in transport.inbound {
                            transport.dequeued(d)
                            await shell.receiveThenWaitForRoom(d)
                        }
                    }
                    group.addTask { try await self.waitForChange(from: signature) }
                    try await group.next()
                    group.cancelAll()
                }
            } catch {
                await shell.attach(nil)
                await transport.close()
                throw error
            }
            await shell.attach(nil)
            await transport.close()
            logger.info("LAN interfaces changed; joining again")
        }
    }

    /// Returns once the usable interface set differs from `signature`.
    func waitForChange(from signature: [String]) async throws {
        while true {
            try await Task.sleep(nanoseconds: Self.rescanSeconds * 1_000_000_000)
            let now =
                (try? LANTransport.chooseInterfaces(names: config.lanInterfaces, ipv6: config.lanIPv6).usable) ?? []
            if LANTransport.signature(now) != signature { return }
        }
    }
}
