import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("watch.abstract"), discussion: tr("watch.discussion"))

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let json = options.json
                try await options.client.withConnection { conn in
                    let reply = try await conn.fetch(
                        RPC.Method.subscribe, Empty(), as: Subscribed.self,
                        onNotification: { method, params in emitNotification(method, params, json: json) })
                    guard reply.value.subscribed else { throw CLIError(tr("error.subscriptionRefused")) }
                    while let incoming = try await conn.next() {
                        if case .notification(let method, let params) = incoming {
                            emitNotification(method, params, json: json)
                        }
                    }
                }
                writeErr(errorLine(tr("error.closed")))
            }
        }
    }
}

/// Prints one `message.received` notification (other notifications are ignored) and flushes stdout.
func emitNotification(_ method: String, _ params: JSONValue, json: Bool) {
    guard method == RPC.Method.messageReceived else { return }
    do {
        if json {
            writeOut(try jsonLine(params))
        } else {
            writeOut(render(try decodeResult(params, of: method, as: InboxItem.self)) + "\n")
        }
        flushOut()
    } catch {
        writeErr(errorLine(tr("error.skipped", errorMessage(for: error))))
    }
}
