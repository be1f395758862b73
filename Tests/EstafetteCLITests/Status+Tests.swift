import ArgumentParser
import EstafetteAPI
import Testing

@testable import estafette

@Suite struct DaemonNotRunningTests {
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

@Suite struct ErrorReportingTests {
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

@Suite struct HumanOutputTests {
    @Test func statusListsCountersSorted() {
        let status = NodeStatus(
            id: "es1abc", version: "0.1.0", peers: 2, envelopes: 5, uptime_s: 3725,
            counters: ["z.last": 2, "a.first": 10])
        #expect(
            Estafette.Status.describe(status) == """
                ID:         es1abc
                Version:    0.1.0
                Peers:      2
                Envelopes:  5
                Uptime:     1h 2m 5s
                Counters:
                  a.first  10
                  z.last   2
                """)
    }

    @Test("a suspect clock gets a line saying which way and how far; a good clock none")
    func statusSaysWhenTheClockLooksWrong() {
        var status = NodeStatus(
            id: "es1abc", version: "0.1.0", peers: 2, envelopes: 5, uptime_s: 5, counters: [:],
            clock: ClockInfo(suspect: true, skew_seconds: -259_200))
        #expect(
            Estafette.Status.describe(status).contains(
                "Clock:      SUSPECT: about 3d 0h 0m 0s behind the mesh; check the date"))
        status.clock = ClockInfo(suspect: false, skew_seconds: nil)
        #expect(!Estafette.Status.describe(status).contains("Clock:"))
    }

    @Test func identityIsLabelled() {
        #expect(
            Estafette.ID.describe(IdentityInfo(id: "es1abc", fingerprint: "12 34"))
                == "ID:           es1abc\nFingerprint:  12 34")
    }

    @Test func peersShowSecondsSinceLastSeen() {
        let list = PeersList(peers: [Peer(session: "00ff", address: "10.0.0.1:5000", last_seen: 93)])
        #expect(Estafette.Peers.describe(list, now: 100) == "00ff  10.0.0.1:5000  last seen 7s ago")
        #expect(Estafette.Peers.describe(PeersList(peers: []), now: 100) == "No peers.")
    }
}
