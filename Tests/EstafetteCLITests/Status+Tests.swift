import ArgumentParser
import EstafetteAPI
import Testing

@testable import estafette

@Suite(.plainEnglish) struct DaemonNotRunningTests {
    static let missingSocket = "/nonexistent-estafette-test-dir/estafetted.sock"

    @Test func statusReportsDaemonNotRunningWithThePath() async {
        do {
            _ = try await Estafette.Status.fetch(RPCClient(socketPath: Self.missingSocket))
            Issue.record("status succeeded without a daemon")
        } catch let error as RPCClientError {
            guard case .daemonNotRunning(let path, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == Self.missingSocket)
            #expect(error.description.contains(Self.missingSocket))
            #expect(exitStatus(for: error) == 3)
            #expect(errorMessage(for: error).contains(Self.missingSocket))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func statusCommandExitsWithThree() async throws {
        let status = try #require(
            try Estafette.parseAsRoot(["status", "--socket", Self.missingSocket]) as? Estafette.Status)
        await #expect(throws: ExitCode(3)) { try await status.run() }
    }
}

@Suite(.plainEnglish) struct ErrorReportingTests {
    @Test func remoteErrorsPrintTheDaemonsMessageAndExitOne() {
        let error = RPCClientError.remote(
            RPCErrorObject(code: RPC.ErrorCode.unknownContact, message: "no contact named 'x'"))
        #expect(errorMessage(for: error) == "no contact named 'x'")
        #expect(exitStatus(for: error) == 1)
    }

    @Test func otherErrorsExitOne() {
        #expect(exitStatus(for: RPCClientError.connectionClosed) == 1)
        #expect(exitStatus(for: CLIError("boom")) == 1)
        #expect(errorMessage(for: CLIError("two\nlines")) == "two lines")
    }
}

@Suite(.plainEnglish) struct HumanOutputTests {
    @Test func statusFitsOneScreenWithDropsByReason() {
        let status = NodeStatus(
            id: "es1abc", version: "0.1.0", peers: 2, envelopes: 5, uptime_s: 3725,
            counters: ["packets_in": 40, "packets_out": 7, "drop.bad_signature": 3, "drop.expired": 9, "drop.x": 0])
        #expect(
            Estafette.Status.describe(status) == """
                Node:         es1abc  (estafetted 0.1.0)
                Uptime:       1h 2m 5s
                Peers:        2
                Relay links:  no relay links
                Store:        5 envelopes
                Traffic:      40 packets in, 7 out
                Drops:        12
                    expired        9
                    bad_signature  3
                Warnings:     none
                """)
    }

    @Test("a suspect clock gets a line saying which way and how far; a good clock none")
    func statusSaysWhenTheClockLooksWrong() {
        var status = NodeStatus(
            id: "es1abc", version: "0.1.0", peers: 2, envelopes: 5, uptime_s: 5, counters: [:],
            clock: ClockInfo(suspect: true, skew_seconds: -259_200))
        #expect(
            Estafette.Status.describe(status).contains(
                "  ! clock SUSPECT: about 3d 0h 0m 0s behind the mesh; most envelopes heard are refused"))
        status.clock = ClockInfo(suspect: false, skew_seconds: nil)
        #expect(!Estafette.Status.describe(status).contains("clock"))
    }

    @Test func statusShowsQuotaClockRelayLinksAndWarnings() {
        let status = NodeStatus(id: "es1abc", version: "0.1.0", peers: 0, envelopes: 10, uptime_s: 600, counters: [:])
        let raw: JSONValue = .object([
            "store_bytes": .int(950 << 20), "store_quota_bytes": .int(1000 << 20), "clock_offset_s": .int(-300),
            "warnings": .array([.string("relay r1 unreachable")]),
        ])
        let links = Estafette.Status.RelayLinks.list([.object(["name": .string("r1"), "last_sync_s": .int(42)])])
        let text = Estafette.Status.describe(status, raw: raw, links: links)
        #expect(text.contains("Store:        10 envelopes, 950.0 MiB of 1000.0 MiB (95%)"))
        #expect(text.contains("Relay links:  1\n"))
        #expect(text.contains("  last_sync_s=42  name=r1"))
        #expect(text.contains("  ! relay r1 unreachable"))
        #expect(text.contains("  ! clock off by -300 s"))
        #expect(text.contains("  ! store near its quota (95%)"))
        #expect(text.contains("  ! no packet received"))
        #expect(text.split(separator: "\n").count <= 24)
    }

    @Test func identityIsLabelled() {
        #expect(
            Estafette.ID.describe(IdentityInfo(id: "es1abc", fingerprint: "12 34"))
                == "ID:           es1abc\nFingerprint:  12 34")
    }

    @Test func peersShowWhenLastSeenUnderHeaders() {
        let list = PeersList(peers: [
            Peer(session: "00ff", address: "10.0.0.1:5000", last_seen: 93),
            Peer(session: "01", address: "10.0.0.2:5000", last_seen: 100 - 300),
        ])
        #expect(
            Estafette.Peers.describe(list, now: 100) == """
                SESSION  ADDRESS        LAST SEEN
                00ff     10.0.0.1:5000  just now
                01       10.0.0.2:5000  5 min ago
                """)
        #expect(Estafette.Peers.describe(PeersList(peers: []), now: 100) == "No peers.")
    }
}
