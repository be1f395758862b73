import EstafetteCore
import Logging

/// Bounded storage and the clock warning (issue 9): the store's quota after each group commit, the inbox's
/// retention with each sweep, and a log line when the node's clock starts or stops looking wrong.
extension NodeShell {
    /// After a commit of `added` bytes: when the store is over `store.max_bytes`, evicts down to 90 % of it
    /// (`Store.evict`: carried envelopes first) and tells the node which IDs it no longer holds.
    func enforceQuota(added: Int64) {
        bounds.storedBytes += added
        guard bounds.storedBytes > config.storeMaxBytes else { return }
        let target = config.storeMaxBytes / 10 * 9
        do {
            let (ids, freed) = try store.evict(bytes: bounds.storedBytes - target)
            bounds.storedBytes -= freed
            node.evicted(ids)
            counters.add("store_evictions")
            logger.notice(
                "store over its quota: envelopes evicted",
                metadata: ["count": "\(ids.count)", "bytes": "\(freed)", "max_bytes": "\(config.storeMaxBytes)"])
        } catch {
            logger.error("cannot evict envelopes", metadata: ["error": "\(error)"])
        }
    }

    /// With each sweep: the stored bytes recounted (expired envelopes were just deleted), and the inbox pruned to
    /// `inbox.max_messages` and `inbox.retention_days`.
    func sweepBounds(nowSeconds: Int64) {
        do {
            bounds.storedBytes = try store.envelopeBytes()
            let before = config.inboxRetentionDays.map { nowSeconds - Int64($0) * 86_400 }
            let n = try store.pruneInbox(maxMessages: config.inboxMaxMessages, receivedBefore: before)
            if n > 0 {
                counters.add("inbox_pruned", Int64(n))
                logger.info("old messages left the inbox", metadata: ["count": "\(n)"])
            }
        } catch {
            logger.error("cannot apply the storage bounds", metadata: ["error": "\(error)"])
        }
    }

    /// Logs when the node starts (warning) or stops suspecting that its clock is off.
    func checkClock() {
        let status = node.clockStatus
        guard status.suspect != bounds.clockSuspect else { return }
        bounds.clockSuspect = status.suspect
        if status.suspect {
            let skew = status.skewSeconds ?? 0
            logger.warning(
                "this node's clock looks wrong: most envelopes heard are refused as \(skew > 0 ? "expired" : "from the future")",
                metadata: ["skew_seconds": "\(skew)", "hint": "check the date and time (timedatectl)"])
        } else {
            logger.notice("this node's clock looks right again")
        }
    }
}

/// The shell's state for the bounds above.
struct ShellBounds: Sendable {
    var storedBytes: Int64 = 0
    var clockSuspect = false
}
