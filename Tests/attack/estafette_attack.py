#!/usr/bin/env python3
"""Estafette test attacker: forges LAN datagrams from docs/protocol.md (see estafette_wire.py) and attacks live
daemons on a test LAN. For network namespaces made by a test only (Tests/attack/lan.py): never point it at a
real network.

    python3 Tests/attack/estafette_attack.py <attack> --group G --port P --iface IF [options]

Attacks (each prints one JSON summary line on stdout at the end; SIGINT ends a running attack cleanly):
    junk        valid-looking junk envelopes (--kind direct|channel|receipt, --size, --rate, --count)
    rewrap      listens on the group and re-sends each direct envelope it hears under --variants new IDs
                (--mode tag|expiry|version) for --duration seconds
    forge       forged beacons / inventories / wants / coded packets (--packet, --rate, --duration), a fresh
                session per packet unless --sessions N; prefixes and sessions heard on the group are reused
    partials    opens partial envelopes: first fragments of random streams (--rate, --duration, --sessions)
    beacons     fresh-session beacon flood (--count, --rate): peer-table growth
    amplify     asks --target for repairs (--mode inventory|want) and counts the bytes it answers with
    alerts      alerts signed by a fresh author: --scenario rate|backwards|past|future (--count)
    dm          one direct message sealed by this library for --to ID (the spec check)
    capture     listens for --duration and reports per-source traffic and the beacons heard
    send-beacon one beacon from --source (an address outside the subnet) or unicast to --unicast HOST:PORT
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import estafette_wire as w  # noqa: E402
from attack_net import STOP, Mesh, paced, session_source  # noqa: E402


# ---------------------------------------------------------------- attacks


def junk_envelope(kind: int, size: int, now: int) -> bytes:
    exp = w.coarse_expiry(now)
    if kind == w.KIND_DIRECT:
        body = os.urandom(max(size, 304))  # looks like a sealed 256-byte bucket: carried by everyone
    else:
        body = os.urandom(size)
    return w.Envelope(kind, exp, body).encode()


def attack_junk(m: Mesh, a) -> dict:
    kind = {"direct": 1, "channel": 2, "receipt": 4}[a.kind]
    sessions = session_source(a.sessions or 1)
    now = int(time.time())

    def gen():
        while True:
            yield w.envelope_packet(next(sessions), junk_envelope(kind, a.size, now))

    t0 = time.time()
    n = paced(m, gen(), a.rate, a.count, a.duration)
    return {"sent": n, "seconds": round(time.time() - t0, 2), "send_errors": m.send_errors}


def attack_rewrap(m: Mesh, a) -> dict:
    captured, rewrapped, seen = [], 0, set()
    lock = threading.Lock()

    def on_packet(host, session, ptype, fields, envelope):
        if envelope is None:
            return
        try:
            env, _ = w.decode_envelope(envelope)
        except w.WireError:
            return
        if env.kind != w.KIND_DIRECT or env.id in seen:
            return
        with lock:
            seen.add(env.id)
            captured.append(env.id.hex())
        for i in range(1, a.variants + 1):
            copy = w.Envelope(env.kind, env.expires_at, env.body, env.tag, env.version)
            if a.mode == "tag":
                copy.tag = i.to_bytes(4, "big")
            elif a.mode == "expiry":
                copy.expires_at = env.expires_at - 60 * i
            elif a.mode == "version":
                copy.version = (env.version + i) % 256
            seen.add(copy.id)
            for d in w.fragments_of(random.getrandbits(64), copy.encode()):
                m.send(d)
        nonlocal rewrapped
        rewrapped += a.variants

    m.handlers.append(on_packet)
    t0 = time.time()
    while not STOP.is_set() and time.time() - t0 < a.duration:
        time.sleep(0.05)
    return {"captured": len(captured), "captured_ids": captured, "rewrapped_sent": rewrapped}


def forged_packets(m: Mesh, kind: str, sessions, a):
    kinds = ["beacon", "inventory", "want", "coded"] if kind == "all" else [kind]
    i = 0
    while True:
        k = kinds[i % len(kinds)]
        i += 1
        s = next(sessions)
        heard = m.all_prefixes()
        if k == "noise":  # does not open: the cheapest packet to refuse
            yield w.AD + os.urandom(w.MAX_DATAGRAM - 3)
        elif k == "beacon":
            yield w.beacon(s, a.claim_count, os.urandom(32))
        elif k == "inventory":
            yield w.inventory(s, 0, 2**64 - 1, a.claim_count, os.urandom(32), [])
        elif k == "want":
            with m.lock:
                targets = list(m.sessions) or [random.getrandbits(64)]
            pfx = random.sample(heard, min(len(heard), 8)) if heard else []
            yield w.want(s, random.choice(targets), 1, sorted(pfx))
        elif k == "coded":
            n = random.randint(1, 32)
            if a.members == "held" and heard:  # prefixes heard in inventories: some a lagging node lacks
                members = random.sample(heard, min(n, len(heard)))
            elif a.members == "held+1" and heard:
                # held members make the node load and subtract them; one unknown keeps the packet useful
                members = random.sample(heard, min(8, len(heard))) + [random.getrandbits(64)]
            else:
                members = sorted(random.getrandbits(64) for _ in range(n))
            members = sorted(set(members))
            coefs = [random.randint(1, 255) for _ in members]
            yield w.coded(s, members, coefs, os.urandom(w.MAX_PAYLOAD - 1 - 9 * len(members)))


def attack_forge(m: Mesh, a) -> dict:
    sessions = session_source(a.sessions)
    if a.packet in ("coded", "want", "all") and a.learn > 0:
        if a.members != "unknown":  # a disagreeing beacon makes the nodes publish their inventories
            m.send(w.beacon(random.getrandbits(64), 0, os.urandom(32)))
        time.sleep(a.learn)  # hear some inventories and sessions first
    t0 = time.time()
    n = paced(m, forged_packets(m, a.packet, sessions, a), a.rate, a.count, a.duration)
    return {"sent": n, "seconds": round(time.time() - t0, 2), "prefixes_heard": len(m.all_prefixes())}


def attack_partials(m: Mesh, a) -> dict:
    sessions = session_source(a.sessions)

    def gen():
        while True:
            total = 32_000 + random.randint(0, 800)
            yield w.fragment(next(sessions), random.getrandbits(64), 0, total, os.urandom(w.CHUNK))

    t0 = time.time()
    n = paced(m, gen(), a.rate, a.count, a.duration)
    return {"sent": n, "seconds": round(time.time() - t0, 2)}


def attack_beacons(m: Mesh, a) -> dict:
    sessions = session_source(a.sessions)

    def gen():
        while True:
            yield w.beacon(next(sessions), random.randint(0, 5), os.urandom(32))

    t0 = time.time()
    n = paced(m, gen(), a.rate, a.count, a.duration)
    return {"sent": n, "seconds": round(time.time() - t0, 2), "send_errors": m.send_errors}


def attack_amplify(m: Mesh, a) -> dict:
    """Bytes the honest hosts multicast while we ask `--target` for repairs, less what they send when idle, over
    the bytes of our requests. `ratio` counts the target alone, `ratio_all` every host we hear."""
    target = a.target

    def target_session():
        with m.lock:
            return next((s for s, h in m.sessions.items() if h == target), None)

    deadline = time.time() + 30
    while target_session() is None and time.time() < deadline and not STOP.is_set():
        time.sleep(0.1)
    session = target_session()
    if session is None:
        raise SystemExit(f"never heard {target}")
    prefixes: list[int] = []
    if a.mode == "want":
        # Learn its prefixes from the inventory a disagreeing beacon provokes.
        deadline = time.time() + 20
        while len(m.prefixes.get(target, ())) == 0 and time.time() < deadline:
            m.send(w.beacon(random.getrandbits(64), 0, os.urandom(32)))
            time.sleep(1.0)
        time.sleep(1.0)
        with m.lock:
            prefixes = sorted(m.prefixes.get(target, ()))
        if not prefixes:
            raise SystemExit("target listed no prefixes (no inventory, or an empty store)")
        time.sleep(a.settle)
    # Idle traffic of every host, for as long as the attack.
    s0 = m.snapshot()
    time.sleep(a.idle)
    s1 = m.snapshot()
    idle = {h: (s1.get(h, 0) - s0.get(h, 0)) / a.idle for h in s1}
    my_session = random.getrandbits(64)
    sent0, t0 = m.sent_bytes, time.time()
    i = 0
    while time.time() - t0 < a.duration and not STOP.is_set():
        if a.mode == "inventory":
            m.send(w.beacon(random.getrandbits(64), 0, os.urandom(32)))
        else:
            chunk = [prefixes[(i * a.per_want + j) % len(prefixes)] for j in range(a.per_want)]
            m.send(w.want(my_session, target_session() or session, 65535, sorted(set(chunk))))
        i += 1
        time.sleep(a.interval)
    elapsed = time.time() - t0
    time.sleep(2.0)  # answers still on their way
    s2 = m.snapshot()
    window = elapsed + 2.0
    answered = {h: int(s2.get(h, 0) - s1.get(h, 0) - idle.get(h, 0) * window) for h in s2}
    asked = m.sent_bytes - sent0
    return {
        "mode": a.mode, "requests": i, "request_bytes": asked, "answer_bytes": answered.get(target, 0),
        "answer_bytes_by_host": answered, "ratio": round(answered.get(target, 0) / max(1, asked), 1),
        "ratio_all": round(sum(answered.values()) / max(1, asked), 1), "prefixes_known": len(prefixes),
        "seconds": round(elapsed, 1), "target_types": dict(m.heard_types.get(target, {})),
    }  # fmt: skip


def attack_alerts(m: Mesh, a) -> dict:
    author = w.Identity.generate()
    now = int(time.time())
    exp = w.coarse_expiry(now)
    year = 365 * 86400
    plan: list[tuple[str, int, int]] = []  # (label, seq, created_at)
    if a.scenario == "rate":
        # created_at strictly increases with seq (docs/protocol.md), as an author's own daemon makes them; no
        # alert may live longer than 7 days from its creation
        plan = [(f"rate {i}", i + 1, now - a.count + i) for i in range(a.count)]
        exp = w.coarse_expiry(now - a.count)
    elif a.scenario == "backwards":
        plan = [("seq 100", 100, now), ("seq 50 (backwards)", 50, now), ("seq 100 again, new text", 100, now)]
    elif a.scenario == "past":
        plan = [("created now", 1, now), ("created a year ago", 2, now - year)]
    elif a.scenario == "future":
        plan = [("created in 10 years", 1, now + 10 * year), ("created in 1 day", 2, now + 86400)]
    ids = []
    pkts = []
    for label, seq, created in plan:
        env = w.sign_alert(author, seq, created, f"{a.text} [{label}]", exp)
        ids.append({"label": label, "id": env.id.hex()})
        pkts.extend(w.fragments_of(random.getrandbits(64), env.encode()))
    t0 = time.time()
    paced(m, iter(pkts), a.rate)
    return {"author": author.text_id, "alerts": ids, "seconds": round(time.time() - t0, 2)}


def attack_dm(m: Mesh, a) -> dict:
    sender = w.Identity.generate()
    now = int(time.time())
    env = w.seal_direct(sender, w.parse_id(a.to), a.text, now, w.coarse_expiry(now))
    for d in w.fragments_of(random.getrandbits(64), env.encode()):
        m.send(d)
    return {"from": sender.text_id, "id": env.id.hex(), "bytes": len(env.encode())}


def attack_capture(m: Mesh, a) -> dict:
    t0 = time.time()
    while not STOP.is_set() and time.time() - t0 < a.duration:
        time.sleep(0.05)
    with m.lock:
        return {
            "bytes": dict(m.heard_bytes), "packets": dict(m.heard_packets),
            "types": {h: dict(t) for h, t in m.heard_types.items()}, "beacons": m.beacons,
        }  # fmt: skip


def attack_send_beacon(m: Mesh, a) -> dict:
    session = random.getrandbits(64)
    to = None
    if a.unicast:
        host, port = a.unicast.rsplit(":", 1)
        to = (host, int(port))
    for _ in range(a.count):
        m.send(w.beacon(session, 0, os.urandom(32)), to)
        time.sleep(0.05)
    return {"session": f"{session:016x}", "source": a.source or m.addr, "to": a.unicast or "group"}


ATTACKS = {
    "junk": attack_junk, "rewrap": attack_rewrap, "forge": attack_forge, "partials": attack_partials,
    "beacons": attack_beacons, "amplify": attack_amplify, "alerts": attack_alerts, "dm": attack_dm,
    "capture": attack_capture, "send-beacon": attack_send_beacon,
}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("attack", choices=sorted(ATTACKS))
    p.add_argument("--group", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--iface", required=True)
    p.add_argument("--rate", type=float, default=100.0, help="datagrams per second")
    p.add_argument("--count", type=int, default=None)
    p.add_argument("--duration", type=float, default=None, help="seconds")
    p.add_argument("--sessions", type=int, default=None, help="rotate N fixed sessions (default: fresh each packet)")
    p.add_argument("--kind", default="direct", choices=["direct", "channel", "receipt"])
    p.add_argument("--size", type=int, default=304, help="junk body bytes")
    p.add_argument("--variants", type=int, default=20)
    p.add_argument("--mode", default=None)
    p.add_argument("--packet", default="all", choices=["noise", "beacon", "inventory", "want", "coded", "all"])
    p.add_argument("--claim-count", type=int, default=0xFFFFFFFF)
    p.add_argument("--members", default="unknown", choices=["unknown", "held", "held+1"])
    p.add_argument("--learn", type=float, default=0.0, help="seconds to listen before forging")
    p.add_argument("--target", help="victim's address (amplify)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between requests (amplify)")
    p.add_argument("--per-want", type=int, default=136)
    p.add_argument("--idle", type=float, default=5.0)
    p.add_argument("--settle", type=float, default=5.0)
    p.add_argument("--scenario", default="rate", choices=["rate", "backwards", "past", "future"])
    p.add_argument("--text", default="forged alert")
    p.add_argument("--to", help="recipient ID (dm)")
    p.add_argument("--source", help="send from this address (must be on the interface)")
    p.add_argument("--unicast", help="HOST:PORT to send to instead of the group")
    a = p.parse_args(argv)
    if a.mode is None:
        a.mode = {"rewrap": "tag", "amplify": "want"}.get(a.attack, "")
    if a.duration is None and a.attack in ("rewrap", "capture", "amplify"):
        a.duration = 10.0
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    m = Mesh(a.group, a.port, a.iface, source=a.source)
    result = ATTACKS[a.attack](m, a)
    result["attacker_sent"] = m.sent
    result["attacker_sent_bytes"] = m.sent_bytes
    STOP.set()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
