"""Measurements of one hostile-LAN property each, on a `lan.LAN` with two honest daemons (a = d1, b = d2) and
the attacker host. Each returns a dict of numbers; `attack=False` (or rate 0) gives the honest baseline of the
same scenario. Shared by probe.py (the baseline table) and test_hostile_lan.py (the assertions).
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from pathlib import Path

from lan import LAN, SUBNET, Daemon, rpc_call, rpc_pipelined, wait_until


def send_dm(a: Daemon, b: Daemon, text: str) -> str:
    return a.rpc("messages.send", {"to": b.id, "text": text})["message_id"]


def texts_in(d: Daemon, texts: set[str]) -> list[dict]:
    return [m for m in d.inbox(1000) if m["text"] in texts]


def sync(lan: LAN, timeout: float = 30) -> float | None:
    """Waits until the honest daemons hold the same number of envelopes."""
    return wait_until(lambda: len({d.status()["envelopes"] for d in lan.daemons}) == 1, timeout, 0.25)


# ---------------------------------------------------------------- 1. one authored message, delivered once


def rewrap(lan: LAN, mode: str = "tag", variants: int = 20, attack: bool = True) -> dict:
    a, b = lan.daemons[:2]
    p = lan.attack_bg("rewrap", "--mode", mode, "--variants", str(variants), "--duration", "30") if attack else None
    time.sleep(1.5)
    text = f"rewrap probe {secrets.token_hex(4)}"
    send_dm(a, b, text)
    wait_until(lambda: texts_in(b, {text}), 10)
    time.sleep(6)  # the copies, and a repair round
    shown = len(texts_in(b, {text}))
    out = {"shown": shown, "counters_b": {k: v for k, v in b.counters().items() if k.startswith("drop.")}}
    if p:
        out["attacker"] = LAN.finish(p)
    return out


# ---------------------------------------------------------------- 2. bounded storage under junk


def junk(lan: LAN, count: int = 20_000, seconds: float = 10, honest_dms: int = 40, attack: bool = True) -> dict:
    a, b = lan.daemons[:2]
    start = b.status()
    before = start["envelopes"]
    # B acknowledges each honest message with a delivery receipt: an envelope of its own, not junk.
    receipts_before = start["counters"].get("receipts_sent", 0)
    rss0, disk0 = b.rss_kb(), b.data_bytes()
    p = lan.attack_bg("junk", "--rate", str(count / seconds), "--count", str(count)) if attack else None
    texts = set()
    t0 = time.time()
    for i in range(honest_dms):  # spread over the flood
        t = f"honest during flood {i} {secrets.token_hex(3)}"
        texts.add(t)
        send_dm(a, b, t)
        time.sleep(max(0, t0 + (i + 1) * seconds / honest_dms - time.time()))
    attacker = LAN.finish(p, timeout=seconds + 60) if p else {}
    arrived_at_end = len(texts_in(b, texts))
    wait_until(lambda: len(texts_in(b, texts)) == len(texts), 30, 0.5)
    status = b.status()
    return {
        "junk_sent": attacker.get("sent", 0),
        "stored": status["envelopes"] - before - len(texts)
        - (status["counters"].get("receipts_sent", 0) - receipts_before),
        "honest_arrived_at_end": arrived_at_end,
        "honest_arrived_30s_later": len(texts_in(b, texts)),
        "honest_sent": len(texts),
        "rss_growth_mb": round((b.rss_kb() - rss0) / 1024, 1),
        "disk_growth_mb": round((b.data_bytes() - disk0) / 2**20, 1),
        "drops_b": {k: v for k, v in status["counters"].items() if k.startswith("drop.")},
    }


# ---------------------------------------------------------------- 3. repair under forged control packets


def catch_up(lan: LAN, packet: str | None = None, rate: float = 5, missed: int = 10, timeout: float = 40) -> dict:
    """b is away while a stores `missed` messages for it; b comes back while the attacker forges `packet`s."""
    a, b = lan.daemons[:2]
    b.stop()
    texts = {f"missed {i} {secrets.token_hex(3)}" for i in range(missed)}
    for t in texts:
        send_dm(a, b, t)
    p = None
    if packet:
        args = ["--packet", packet, "--rate", str(rate), "--duration", str(timeout + 20)]
        if packet in ("coded", "all"):
            args += ["--members", "held"]
        p = lan.attack_bg("forge", *args)
        time.sleep(2)
    b.start()
    took = wait_until(lambda: len(texts_in(b, texts)) == missed, timeout, 0.25)
    got = len(texts_in(b, texts))
    out = {
        "caught_up_s": None if took is None else round(took, 1), "got": got, "missed": missed,
        "a": {k: v for k, v in a.counters().items() if k in ("inventory_rounds", "repair_bursts")},
        "b": {k: v for k, v in b.counters().items() if k.startswith(("drop.coded", "wants_", "coded_"))},
    }  # fmt: skip
    if p:
        out["attacker"] = LAN.finish(p)
    if took is None:  # let the next scenario start from a synced pair
        wait_until(lambda: len(texts_in(b, texts)) == missed, 60, 0.5)
    return out


# ---------------------------------------------------------------- 4. reassembly under a partial flood


def long_message(
    lan: LAN, rate: float = 200, sessions: int | None = None, timeout: float = 30, fill: float = 12
) -> dict:
    a, b = lan.daemons[:2]
    p = None
    if rate:
        args = ["--rate", str(rate), "--duration", str(timeout + 30)]
        if sessions:
            args += ["--sessions", str(sessions)]
        p = lan.attack_bg("partials", *args)
        time.sleep(fill)  # fill the reassembly budget first
    text = ("long message " + secrets.token_hex(4) + " ").ljust(20_000, "x")
    send_dm(a, b, text)
    took = wait_until(lambda: texts_in(b, {text}), timeout, 0.25)
    drops = {k: v for k, v in b.counters().items() if k.startswith("drop.")}
    out = {"arrived_s": None if took is None else round(took, 1), "drops_b": drops}
    if p:
        out["attacker"] = LAN.finish(p)
    return out


# ---------------------------------------------------------------- 5. amplification


def fill_store(a: Daemon, short: int = 150, long: int = 8) -> None:
    """Honest content on a: `short` alerts of ~900 bytes and `long` alerts of 30,000 bytes."""
    reqs = [("alerts.post", {"text": f"alert {i} " + "s" * 900}) for i in range(short)]
    reqs += [("alerts.post", {"text": f"long alert {i} " + "l" * 30_000}) for i in range(long)]
    for r in rpc_pipelined(a.socket, reqs):
        if "error" in r:
            raise RuntimeError(f"alerts.post failed: {r['error']}")


def amplification(lan: LAN, mode: str, per_want: int = 136, interval: float = 0.5, seconds: float = 10) -> dict:
    args = ["--target", LAN.addr(1), "--mode", mode, "--per-want", str(per_want), "--interval", str(interval)]
    return lan.attack("amplify", *args, "--duration", str(seconds), timeout=seconds + 90)


def settled(lan: LAN, timeout: float = 90, quiet: float = 4.0) -> float | None:
    """Waits until the honest daemons hold the same number of envelopes and none of them has started a repair
    (inventory round, want, burst) for `quiet` seconds: their own catching up is not an answer to anyone's
    request, and must not be counted as one."""
    keys = ("inventory_rounds", "wants_sent", "repair_bursts")

    def activity() -> tuple:
        return tuple(tuple(d.counters().get(k, 0) for k in keys) for d in lan.daemons)

    t0 = time.time()
    last, since = None, time.time()
    while time.time() - t0 < timeout:
        counts = {d.status()["envelopes"] for d in lan.daemons}
        now = activity()
        if now != last or len(counts) != 1:
            last, since = now, time.time()
        elif time.time() - since >= quiet:
            return time.time() - t0
        time.sleep(0.25)
    return None


def fill_from_many_sources(lan: LAN, total: int, sources: int = 20) -> None:
    """`total` junk envelopes from `sources` addresses of the attacker host, each within one source's budget
    (300 at once): a big store without waiting minutes for one source's budget to refill."""
    each = -(-total // sources)
    procs = []
    for k in range(sources):
        addr = f"{SUBNET}.{100 + k}"
        lan.in_attacker("ip", "addr", "add", f"{addr}/24", "dev", "eth0")
        procs.append(lan.attack_bg("junk", "--source", addr, "--rate", "500", "--count", str(each)))
    for p in procs:
        _, err = p.communicate(timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"junk from many sources failed ({p.returncode}):\n{err[-2000:]}")


def inventory_amplification_big_store(lan: LAN, junk_count: int = 5000) -> dict:
    """A store of over 32 × 136 envelopes (junk the attacker injected from many addresses) answers disagreeing
    beacons with inventories of up to 32 pages, once the honest nodes agree and have stopped repairing each
    other."""
    fill_from_many_sources(lan, junk_count)
    r = {"settled_s": settled(lan)}
    r.update(amplification(lan, "inventory", interval=1.0, seconds=12))
    r["store"] = lan.daemons[0].status()["envelopes"]
    return r


# ---------------------------------------------------------------- 6. bounded peers


def peers(lan: LAN, count: int = 50_000, seconds: float = 10) -> dict:
    b = lan.daemons[1]
    rss0 = b.rss_kb()
    res = lan.attack("beacons", "--rate", str(count / seconds), "--count", str(count), timeout=seconds + 60)
    time.sleep(1)
    t0 = time.time()
    listed = len(b.rpc("peers.list")["peers"])
    took_ms = (time.time() - t0) * 1000
    st = b.status()
    return {
        "beacons_sent": res["sent"], "peers": st["peers"], "peers_listed": listed,
        "peers_list_ms": round(took_ms, 1), "rss_growth_mb": round((b.rss_kb() - rss0) / 1024, 1),
        "rx_queue_full": st["counters"].get("drop.rx_queue_full", 0),
    }  # fmt: skip


# ---------------------------------------------------------------- 7. bounded work per packet


def cpu_per_packet(lan: LAN, packet: str, members: str = "unknown", rate: float = 1000, seconds: float = 10) -> dict:
    """CPU time b spends per forged packet (µs), measured from /proc over a flood of `rate` × `seconds`."""
    b = lan.daemons[1]
    args = ["--packet", packet, "--rate", str(rate), "--duration", str(seconds), "--members", members]
    if members != "unknown":
        args += ["--learn", "3"]
    p = lan.attack_bg("forge", *args)
    if members != "unknown":
        time.sleep(3)
    c0, t0 = b.cpu_seconds(), time.time()
    out_text, _ = p.communicate(timeout=seconds + 60)
    time.sleep(1)
    used = b.cpu_seconds() - c0
    res = json.loads(out_text.strip().splitlines()[-1])
    return {
        "packets": res["sent"], "cpu_s": round(used, 2), "cpu_share": round(used / (time.time() - t0), 2),
        "us_per_packet": round(1e6 * used / max(1, res["sent"]), 1), "prefixes_heard": res.get("prefixes_heard"),
        "drops_b": {k: v for k, v in b.counters().items() if k.startswith(("drop.coded", "drop.rx"))},
    }  # fmt: skip


# ---------------------------------------------------------------- 8. alerts


def alerts(lan: LAN, scenario: str, count: int = 3, rate: float = 100) -> dict:
    b = lan.daemons[1]
    res = lan.attack("alerts", "--scenario", scenario, "--count", str(count), "--rate", str(rate))
    time.sleep(3)
    held = {m["message_id"] for m in b.inbox(1000)}
    return {"shown": {x["label"]: x["id"] in held for x in res["alerts"]}, "author": res["author"]}


def spec_dm(lan: LAN) -> dict:
    b = lan.daemons[1]
    text = f"sealed by the Python attacker {secrets.token_hex(4)}"
    res = lan.attack("dm", "--to", b.id, "--text", text)
    took = wait_until(lambda: texts_in(b, {text}), 10)
    item = next(iter(texts_in(b, {text})), None)
    matches = item is not None and item["from"] == res["from"]
    return {"delivered": item is not None, "took_s": took, "from_matches": matches}


# ---------------------------------------------------------------- 9. unlinkable across restarts


def restart_linkability(lan: LAN, seconds: float = 12) -> dict:
    b = lan.daemons[1]
    bip = LAN.addr(2)
    p = lan.attack_bg("capture", "--duration", str(3 * seconds + 10))
    time.sleep(seconds)
    t_restart = time.time()
    b.stop()
    b.start()
    time.sleep(seconds)
    res = LAN.finish(p, timeout=2 * seconds + 30)
    mine = [x for x in res["beacons"] if x["host"] == bip]
    before = [x for x in mine if x["t"] < t_restart]
    after = [x for x in mine if x["t"] > t_restart]
    if not before or not after:
        return {"error": f"beacons of b: {len(before)} before, {len(after)} after the restart"}
    last, first = before[-1], after[0]
    return {
        "session_changed": last["session"] != first["session"],
        "count_same": last["count"] == first["count"], "digest_same": last["digest"] == first["digest"],
        "before": last, "after": first,
    }  # fmt: skip


# ---------------------------------------------------------------- 11. where datagrams come from


def off_subnet(lan: LAN) -> dict:
    b = lan.daemons[1]
    lan.in_attacker("ip", "addr", "add", "10.214.0.66/32", "dev", "eth0")
    res = lan.attack("send-beacon", "--source", "10.214.0.66", "--count", "3")
    time.sleep(1)
    peers = b.rpc("peers.list")["peers"]
    off = any(p["session"] == res["session"] for p in peers)
    res2 = lan.attack("send-beacon", "--unicast", f"{LAN.addr(2)}:{lan.port}", "--count", "3")
    time.sleep(1)
    peers = b.rpc("peers.list")["peers"]
    uni = [p for p in peers if p["session"] == res2["session"]]
    ours = (res["session"], res2["session"])
    return {
        "off_subnet_peer_taken": off, "unicast_to_group_port_taken": bool(uni),
        "addresses": [p["address"] for p in peers if p["session"] in ours],
    }  # fmt: skip


# ---------------------------------------------------------------- 12. the local API


def api_nesting(d: Daemon, depth: int = 100_000) -> dict:
    line = '{"jsonrpc":"2.0","id":1,"method":"node.status","params":' + "[" * depth + "]" * depth + "}\n"
    answer = None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(d.socket)
        s.sendall(line.encode())
        try:
            answer = s.makefile("rb").readline().decode()[:200]
        except OSError as e:
            answer = f"({e})"
    time.sleep(0.5)
    return {"depth": depth, "line_bytes": len(line), "answer": answer, "daemon_alive": d.running}


def api_connections(d: Daemon, n: int = 5000) -> dict:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, max(hard, n + 100)))
    rss0 = d.rss_kb()
    conns = []
    err = None
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conns.append(s)
            s.connect(d.socket)  # blocking: waits while the listen backlog is full
    except OSError as e:
        err = str(e)
    time.sleep(1)
    fds = len(list(Path(f"/proc/{d.pid}/fd").iterdir()))
    t0 = time.time()
    try:
        rpc_call(d.socket, "node.status", timeout=5)
        honest = f"answered in {(time.time() - t0) * 1000:.0f} ms"
    except Exception as e:
        honest = f"failed: {e}"
    rss1 = d.rss_kb()
    for s in conns:
        s.close()
    time.sleep(1)
    limit = next(x for x in Path(f"/proc/{d.pid}/limits").read_text().splitlines() if x.startswith("Max open files"))
    return {
        "opened": len(conns), "open_error": err, "daemon_fds": fds, "daemon_fd_limit": limit.split()[3],
        "honest_call": honest, "rss_growth_mb": round((rss1 - rss0) / 1024, 1), "daemon_alive": d.running,
    }  # fmt: skip


def api_in_flight(d: Daemon, seconds: float = 15, cap_mb: int = 1500) -> dict:
    """Pipelines inbox.list requests without reading the answers; RSS growth of the daemon."""
    rss0 = d.rss_kb()
    req = (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "inbox.list", "params": {"limit": 1000}}) + "\n").encode()
    batch = req * 200
    written = 0
    peak = rss0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(d.socket)
        s.setblocking(False)
        t0 = time.time()
        while time.time() - t0 < seconds:
            try:
                written += s.send(batch)
            except BlockingIOError:
                time.sleep(0.01)
            peak = max(peak, d.rss_kb())
            if (peak - rss0) / 1024 > cap_mb:
                break
        peak = max(peak, d.rss_kb())
    time.sleep(2)
    return {"requests_written": written // len(req), "rss_growth_mb": round((peak - rss0) / 1024, 1),
            "rss_after_close_mb": round(d.rss_kb() / 1024, 1), "daemon_alive": d.running}  # fmt: skip


def lan_still_works(lan: LAN) -> str:
    """After an attack on b's API: does b still answer, and do a and b still exchange messages?"""
    a, b = lan.daemons[:2]
    if not b.running:
        return f"b exited with {b.proc.returncode if b.proc else '?'}"
    text = f"after {secrets.token_hex(3)}"
    try:
        send_dm(a, b, text)
        took = wait_until(lambda: texts_in(b, {text}), 15)
    except Exception as e:
        return f"failed: {e}"
    return "DM a→b delivered" if took is not None else "DM a→b not delivered in 15 s"
