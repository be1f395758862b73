import EstafetteAPI
import EstafetteCore
import Foundation

/// node.wipe: the panic wipe (DataWipe), then the daemon stops with `WipeExit.status`.
extension Dispatcher {
    static let wipeMethods: [String] = [RPC.Method.nodeWipe]

    /// The answer to node.wipe; nil for any other method.
    func wipeAnswer(method: String, params: JSONValue?) async throws -> Answer? {
        guard method == RPC.Method.nodeWipe else { return nil }
        let p = try decode(NodeWipeParams.self, params)
        guard p.confirm == true else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.confirmationRequired,
                message: "node.wipe destroys the keys, the messages and the contacts for good; "
                    + "send {\"confirm\": true} to do it")
        }
        let dir = shell.config.dataDir
        let t0 = DispatchTime.now().uptimeNanoseconds
        let report = DataWipe.run(dataDir: dir)
        let millis = Int((DispatchTime.now().uptimeNanoseconds - t0) / 1_000_000)
        Self.exitAfterWipe(dataDir: dir)
        guard report.failures.isEmpty else {
            throw RPCErrorObject(
                code: RPC.ErrorCode.wipeFailed,
                message: "the wipe did not finish: \(report.failures.joined(separator: "; ")); the daemon stops")
        }
        return try .from(NodeWiped(wiped: true, files: report.files, millis: millis))
    }

    /// Leaves the answer time to go out, removes whatever a connection recreated in the meantime (SQLite may
    /// open a file again), and ends the process without running anything else (no checkpoint, no flush).
    static func exitAfterWipe(dataDir: String) {
        let thread = Thread {
            usleep(200_000)
            _ = DataWipe.run(dataDir: dataDir)
            _exit(WipeExit.status)
        }
        thread.start()
    }
}
