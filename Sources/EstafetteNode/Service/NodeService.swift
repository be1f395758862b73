import EstafetteCore
import Logging
import ServiceLifecycle

/// Runs the LAN side of a node: binds the multicast transport, feeds datagrams and timer ticks to the engine.
public struct NodeService: Service, CustomStringConvertible {
    public var description: String { "NodeService" }
    let engine: Engine
    let config: NodeConfig
    let logger: Logger
    /// Granularity of protocol timers.
    static let tickMillis: UInt64 = 50

    public init(engine: Engine, config: NodeConfig, logger: Logger) {
        self.engine = engine
        self.config = config
        self.logger = logger
    }

    /// Checks the configured interfaces before anything starts, so a bad name stops the daemon with a clear error.
    public static func validateInterfaces(_ config: NodeConfig) throws {
        _ = try LANTransport.chooseInterfaces(names: config.lanInterfaces)
    }

    public func run() async throws {
        let interfaces = try LANTransport.chooseInterfaces(names: config.lanInterfaces)
        var transport: LANTransport? = nil
        if interfaces.isEmpty {
            logger.warning(
                "no multicast-capable LAN interface found; running without LAN gossip (set lan.interfaces)")
        } else {
            transport = try await LANTransport.start(
                groupHost: config.lanGroup, port: config.lanPort, interfaces: interfaces, logger: logger)
        }
        await engine.attach(transport)
        await engine.start()
        let engine = self.engine
        let lan = transport
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let lan {
                        group.addTask {
                            for await d in lan.inbound {
                                await engine.receive(d)
                            }
                        }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(nanoseconds: Self.tickMillis * 1_000_000)
                            await engine.tick()
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
        await engine.attach(nil)
        await transport?.close()
        logger.info("LAN transport stopped")
    }
}
