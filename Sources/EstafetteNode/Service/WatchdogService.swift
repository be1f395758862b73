import Logging
import ServiceLifecycle

/// Reports the daemon's life to systemd: `READY=1` when it starts serving, `WATCHDOG=1` every half watchdog
/// interval while the node shell still answers, `STOPPING=1` when a graceful shutdown begins.
///
/// Each ping first waits for a turn on the node shell's actor, so a shell that hangs (a stuck disk write, a
/// busy loop) stops the pings and systemd restarts the daemon after `WatchdogSec=`.
public struct WatchdogService: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let shell: NodeShell
    let logger: Logger

    public var description: String { "WatchdogService" }

    public init(notifier: SystemdNotifier, shell: NodeShell, logger: Logger) {
        self.notifier = notifier
        self.shell = shell
        self.logger = logger
    }

    public func run() async throws {
        let notifier = self.notifier
        if notifier.socketPath != nil, !notifier.notify("READY=1\nSTATUS=serving") {
            logger.warning("cannot notify systemd (NOTIFY_SOCKET)", metadata: ["socket": "\(notifier.socketPath!)"])
        }
        let shell = self.shell
        // Runs until the graceful shutdown (ServiceGroup ends the whole group if a service returns early).
        do {
            try await withGracefulShutdownHandler {
                try await cancelWhenGracefulShutdown {
                    guard let interval = notifier.watchdogPingNanos else {
                        try await gracefulShutdown()
                        return
                    }
                    while true {
                        try await Task.sleep(nanoseconds: interval)
                        await shell.heartbeat()
                        notifier.notify("WATCHDOG=1")
                    }
                }
            } onGracefulShutdown: {
                notifier.notify("STOPPING=1")
            }
        } catch is CancellationError {
            // The graceful shutdown (or the group's cancellation) ended the pings.
        }
    }
}

extension NodeShell {
    /// Does nothing, on the shell's actor: returns only once the shell takes its turn (the watchdog's probe).
    func heartbeat() {}
}
