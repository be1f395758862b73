import ArgumentParser
import EstafetteAPI

extension Estafette {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("status.abstract"), discussion: tr("status.discussion"))

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
                let (reply, links) = try await options.client.withConnection { conn in
                    let reply = try await conn.fetch(RPC.Method.nodeStatus, Empty(), as: NodeStatus.self)
                    return (reply, await Self.relayLinks(conn))
                }
                if options.json {
                    writeOut(try jsonLine(reply.raw))
                } else {
                    writeOut(Self.describe(reply.value, raw: reply.raw, links: links))
                }
            }
        }

        static func fetch(_ client: RPCClient) async throws -> Reply<NodeStatus> {
            try await client.fetch(RPC.Method.nodeStatus, Empty(), as: NodeStatus.self)
        }

        /// What `relays.list` said: no such method (a daemon without relays), its result, or a failure.
        enum RelayLinks: Equatable {
            case unsupported
            case list([JSONValue])
            case failed(String)
        }

        static func relayLinks(_ conn: RPCConnection) async -> RelayLinks {
            do {
                let result = try await conn.call("relays.list", Empty(), as: JSONValue.self)
                switch result {
                case .array(let items): return .list(items)
                case .object(let o):
                    if case .array(let items)? = o["links"] ?? o["relays"] { return .list(items) }
                    return .failed(tr("error.unexpectedShape", "relays.list"))
                default: return .failed(tr("error.unexpectedShape", "relays.list"))
                }
            } catch RPCClientError.remote(let e) where e.code == RPC.ErrorCode.methodNotFound {
                return .unsupported
            } catch {
                return .failed(errorMessage(for: error))
            }
        }

        static func describe(_ status: NodeStatus, raw: JSONValue = .null, links: RelayLinks = .unsupported) -> String {
            let fields: [String: JSONValue]
            if case .object(let o) = raw { fields = o } else { fields = [:] }
            var rows: [[String]] = [
                [tr("status.node"), "\(sanitized(status.id))  (estafetted \(sanitized(status.version)))"],
                [tr("status.uptime"), duration(status.uptime_s)],
                [tr("status.peers"), String(status.peers)],
            ]
            rows.append([tr("status.relayLinks"), relayLine(links)])
            if let r = status.relay, r.enabled {
                rows.append([tr("status.relay"), relayFigures(r)])
            }
            rows.append([tr("status.store"), storeLine(status, fields)])
            let packetsIn = status.counters["packets_in"] ?? 0
            let packetsOut = status.counters["packets_out"] ?? 0
            rows.append([tr("status.traffic"), tr("status.trafficLine", String(packetsIn), String(packetsOut))])
            let drops = status.counters.filter { $0.key.hasPrefix("drop.") && $0.value > 0 }
            let dropTotal = drops.values.reduce(0, +)
            rows.append([tr("status.drops"), dropTotal == 0 ? tr("status.none") : "\(dropTotal)"])
            var lines = table(rows)
            let top = drops.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            lines += table(top.prefix(8).map { ["  " + sanitized(String($0.key.dropFirst(5))), String($0.value)] })
                .map { "  " + $0 }
            if top.count > 8 { lines.append("    " + tr("status.moreReasons", String(top.count - 8))) }
            if case .list(let items) = links {
                lines += items.prefix(8).map { "  " + linkLine($0) }
            }
            let warnings = Self.warnings(status, fields)
            // The label padded like the table's first column.
            let labelWidth = rows.map { visibleWidth($0[0]) }.max() ?? 0
            let label = tr("status.warnings")
            let padded = label + String(repeating: " ", count: max(1, labelWidth + 2 - visibleWidth(label)))
            lines.append(warnings.isEmpty ? padded + tr("status.none") : label)
            lines += warnings.map { "  " + Style.out.yellow("!") + " " + $0 }
            return lines.joined(separator: "\n")
        }

        static func relayLine(_ links: RelayLinks) -> String {
            switch links {
            case .unsupported: return tr("status.noRelayLinks")
            case .failed(let why): return tr("status.unknown", sanitized(why))
            case .list(let items): return items.isEmpty ? tr("status.noRelayLinks") : "\(items.count)"
            }
        }

        /// One relay link: its scalar fields as `key value`, in key order (whatever `relays.list` reports).
        static func linkLine(_ item: JSONValue) -> String {
            guard case .object(let o) = item else { return sanitized("\(item)") }
            return o.keys.sorted().compactMap { k -> String? in
                switch o[k]! {
                case .string(let s): return "\(sanitized(k))=\(sanitized(s))"
                case .int(let i): return "\(sanitized(k))=\(i)"
                case .bool(let b): return "\(sanitized(k))=\(b)"
                case .double(let d): return "\(sanitized(k))=\(d)"
                case .number(let text): return "\(sanitized(k))=\(text)"
                default: return nil
                }
            }.joined(separator: "  ")
        }

        static func int(_ fields: [String: JSONValue], _ key: String) -> Int64? {
            if case .int(let i)? = fields[key] { return i }
            return nil
        }

        /// The store's bytes and quota: the daemon's `store_bytes` / `store_quota_bytes` when given, else what
        /// `node.status`'s `relay` object counts (every stored envelope, against the relay quota).
        static func storeFigures(_ status: NodeStatus, _ fields: [String: JSONValue]) -> (bytes: Int64?, quota: Int64?) {
            if let bytes = int(fields, "store_bytes") { return (bytes, int(fields, "store_quota_bytes")) }
            guard let r = status.relay else { return (nil, nil) }
            return (r.bytes, r.enabled ? r.quota : nil)
        }

        static func storeLine(_ status: NodeStatus, _ fields: [String: JSONValue]) -> String {
            var s = trn("status.envelopes", status.envelopes)
            let (bytes, quota) = storeFigures(status, fields)
            if let bytes {
                if let quota, quota > 0 {
                    s += ", " + tr("status.of", bytesText(bytes), bytesText(quota), String(bytes * 100 / quota))
                } else {
                    s += ", \(bytesText(bytes))"
                }
            }
            return s
        }

        static func bytesText(_ n: Int64) -> String {
            if n >= 1 << 30 { return "\(n / (1 << 30)).\(n % (1 << 30) * 10 / (1 << 30)) GiB" }
            if n >= 1 << 20 { return "\(n / (1 << 20)).\(n % (1 << 20) * 10 / (1 << 20)) MiB" }
            if n >= 1 << 10 { return "\(n / (1 << 10)) KiB" }
            return "\(n) B"
        }

        /// Warnings the status supports: the daemon's own (`warnings`), the clock (`clock_offset_s`), the quota
        /// (`store_bytes` / `store_quota_bytes`), and no peer heard after the first minute.
        static func warnings(_ status: NodeStatus, _ fields: [String: JSONValue]) -> [String] {
            var out: [String] = []
            if case .array(let given)? = fields["warnings"] {
                for case .string(let w) in given.prefix(16) { out.append(sanitized(w)) }
            }
            if let clock = status.clock, clock.suspect {
                let skew = clock.skew_seconds ?? 0
                let key = skew > 0 ? "status.clockSuspect.ahead" : "status.clockSuspect.behind"
                out.append(tr(key, duration(Int(clamping: abs(skew)))))
            } else if let offset = int(fields, "clock_offset_s"), abs(offset) > 60 {
                out.append(tr("status.clockOff", String(offset)))
            }
            let (storeBytes, storeQuota) = storeFigures(status, fields)
            if let bytes = storeBytes, let quota = storeQuota, quota > 0, bytes * 10 >= quota * 9 {
                out.append(tr("status.nearQuota", String(bytes * 100 / quota)))
            }
            if status.peers == 0 && status.uptime_s >= 60 && (status.counters["packets_in"] ?? 0) == 0 {
                out.append(tr("status.noPacket"))
            }
            return out
        }
    }
}

/// The relay role's figures from `node.status` on one line.
func relayFigures(_ r: RelayStatus) -> String {
    trn(
        "status.relayFigures", r.links, r.enabled ? tr("status.on") : tr("status.off"), String(r.envelopes),
        String(r.bytes), String(r.quota), String(r.evictions))
}

func relayLine(_ r: RelayStatus) -> String {
    let label = tr("status.relay")
    return label + String(repeating: " ", count: max(1, 12 - visibleWidth(label))) + relayFigures(r)
}
