"""Measurements for what a node stores and shows (issue 9: properties 2, 9 and 13), on a `lan.LAN`; used by
test_hostile_data.py. The shared scenarios (rewrap, junk, alerts, restart) are in measure.py."""

from __future__ import annotations

import secrets
import time

from lan import LAN, Daemon, wait_until
from measure import send_dm, texts_in


def beacon_fields_of_store(session: str, ids_hex: list[str]) -> dict:
    """The beacon fields a node should send in `session` holding exactly `ids_hex` (docs/protocol.md, type 1)."""
    import estafette_wire as w

    xor = w.xor_ids([bytes.fromhex(i) for i in ids_hex])
    return {"count": w.beacon_count(len(ids_hex)), "digest": w.beacon_digest(int(session, 16), xor).hex()}


def store_rows(d: Daemon, sql: str) -> list[tuple]:
    """Reads `d`'s database (WAL: a reader does not disturb the daemon)."""
    import sqlite3

    with sqlite3.connect(f"file:{d.dir / 'data' / 'estafette.sqlite'}?mode=ro", uri=True, timeout=10) as db:
        return db.execute(sql).fetchall()


def quota(lan: LAN, max_bytes: int, seconds: float = 45, rate: float = 200, size: int = 1000) -> dict:
    """b runs with store.max_bytes = `max_bytes`; a sends it 3 DMs and follows nobody; the attacker floods channel
    junk of `size` bytes. What b keeps, and what it evicted."""
    a, b = lan.daemons[:2]
    texts = {f"kept {i} {secrets.token_hex(3)}" for i in range(3)}
    for t in texts:
        send_dm(a, b, t)
    wait_until(lambda: len(texts_in(b, texts)) == 3, 15)
    lan.attack("junk", "--kind", "channel", "--size", str(size), "--rate", str(rate), "--duration", str(seconds),
               timeout=seconds + 60)  # fmt: skip
    time.sleep(2)
    rows = store_rows(b, "SELECT keep, COUNT(*), COALESCE(SUM(length(data)), 0) FROM envelope GROUP BY keep")
    st = b.status()
    return {
        "max_bytes": max_bytes, "by_keep": {k: {"envelopes": n, "bytes": by} for k, n, by in rows},
        "stored_bytes": sum(r[2] for r in rows), "dms_in_inbox": len(texts_in(b, texts)),
        "evicted": st["counters"].get("envelopes_evicted", 0), "evictions": st["counters"].get("store_evictions", 0),
        "budget_drops": st["counters"].get("drop.budget_envelopes", 0),
    }  # fmt: skip


# ---------------------------------------------------------------- 13. clock


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


DEFAULT_GROUP, DEFAULT_PORT = "239.192.45.45", 4545


def skew_daemon(lan: LAN, d: Daemon, offset: str) -> None:
    """Runs `d` with its wall clock moved by `offset` (libfaketime syntax, e.g. "-3d"; monotonic time untouched).

    Under libfaketime a Swift program loses its command-line arguments, so `d` runs without `--config`: on the
    default group, port and interfaces (the namespace's eth0), with its data and socket under XDG_DATA_HOME. The
    LAN (not started yet) is moved to the default group and port: it is alone on its bridge."""
    for other in lan.daemons:
        toml = other.dir / "estafette.toml"
        text = toml.read_text().replace(f'group = "{lan.group}"', f'group = "{DEFAULT_GROUP}"')
        toml.write_text(text.replace(f"port = {lan.port}\n", f"port = {DEFAULT_PORT}\n"))
    lan.group, lan.port = DEFAULT_GROUP, DEFAULT_PORT
    xdg = d.dir / "xdg"
    xdg.mkdir(exist_ok=True)
    d.socket = str(xdg / "estafette" / "estafetted.sock")
    d.wrap = ["env", f"LD_PRELOAD={FAKETIME_LIB}", f"FAKETIME={offset}", "FAKETIME_DONT_FAKE_MONOTONIC=1",
              f"XDG_DATA_HOME={xdg}"]  # fmt: skip


def clock(lan: LAN, alerts_each: int = 6, timeout: float = 20) -> dict:
    """lan.daemons[2] runs with its clock off; the others post alerts. What each says about its clock."""
    a, b, c = lan.daemons[:3]
    for d in (a, b):
        for i in range(alerts_each):
            d.rpc("alerts.post", {"text": f"clock probe {d.name} {i}"})
    wait_until(lambda: c.status().get("clock", {}).get("suspect"), timeout, 0.5)
    time.sleep(1)
    out = {d.name: d.status().get("clock") for d in (a, b, c)}
    drops = {k: v for k, v in c.counters().items() if k in ("drop.expiry_too_far", "drop.expired")}
    log = c.log_path.read_text(errors="replace")
    return {"clock": out, "drops_skewed": drops, "logged": "clock looks wrong" in log,
            "log_line": next((x for x in log.splitlines() if "clock looks wrong" in x), None)}  # fmt: skip
