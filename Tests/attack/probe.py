#!/usr/bin/env python3
"""Measures today's daemon against every hostile-LAN attack and prints the baseline table (markdown).

    sudo python3 Tests/attack/probe.py [--only rewrap,junk,...] [--json out.json] [--md out.md]

Each group runs on a fresh namespace LAN (two honest daemons and the attacker host); about 15 minutes in all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback

import measure as M
from lan import LAN, available


def g_spec(lan: LAN) -> dict:
    r = {"dm": M.spec_dm(lan)}
    for sc in ("backwards", "past", "future"):
        r[f"alerts_{sc}"] = M.alerts(lan, sc)
    rate = M.alerts(lan, "rate", count=300, rate=100)
    r["alerts_rate"] = {"sent": 300, "shown": sum(rate["shown"].values())}
    return r


def g_rewrap(lan: LAN) -> dict:
    return {
        "baseline": M.rewrap(lan, attack=False),
        "tag": M.rewrap(lan, "tag", 20),
        "expiry": M.rewrap(lan, "expiry", 20),
        "version": M.rewrap(lan, "version", 3),
    }


def g_junk(lan: LAN) -> dict:
    return {"baseline": M.junk(lan, attack=False), "attack": M.junk(lan)}


def g_catchup(lan: LAN) -> dict:
    r = {"baseline": M.catch_up(lan)}
    for packet, rate in (("beacon", 5), ("inventory", 5), ("want", 5), ("coded", 5), ("all", 200)):
        r[f"{packet}@{rate}"] = M.catch_up(lan, packet, rate)
    return r


def g_reassembly(lan: LAN) -> dict:
    return {
        "baseline": M.long_message(lan, rate=0),
        "fresh_sessions@200": M.long_message(lan, rate=200),
        "8_sessions@200": M.long_message(lan, rate=200, sessions=8),
        "4_sessions@4": M.long_message(lan, rate=4, sessions=4, fill=20),
    }


def g_amplification(lan: LAN) -> dict:
    M.fill_store(lan.daemons[0])
    M.sync(lan, 60)
    return {
        "store": lan.daemons[0].status()["envelopes"],
        "inventory": M.amplification(lan, "inventory"),
        "want136": M.amplification(lan, "want", per_want=136),
        "want4": M.amplification(lan, "want", per_want=4),
        "inventory_big_store": M.inventory_amplification_big_store(lan),
    }


def g_peers(lan: LAN) -> dict:
    return {"attack": M.peers(lan)}


def g_work(lan: LAN) -> dict:
    M.fill_store(lan.daemons[0], short=300, long=0)
    M.sync(lan, 60)
    return {
        "noise": M.cpu_per_packet(lan, "noise"),
        "beacon": M.cpu_per_packet(lan, "beacon"),
        "coded_unknown": M.cpu_per_packet(lan, "coded", "unknown"),
        "coded_held": M.cpu_per_packet(lan, "coded", "held+1"),
    }


def g_link(lan: LAN) -> dict:
    a, b = lan.daemons[:2]
    for i in range(3):
        M.send_dm(a, b, f"before the restart {i}")
    M.sync(lan)
    return {"restart": M.restart_linkability(lan), "subnet": M.off_subnet(lan)}


def g_api(lan: LAN) -> dict:
    b = lan.daemons[1]
    M.fill_store(lan.daemons[0], short=100, long=0)
    M.sync(lan, 60)
    r = {"nesting": M.api_nesting(b)}
    if b.running:
        r["connections"] = M.api_connections(b)
    if b.running:
        r["in_flight"] = M.api_in_flight(b)
    if b.running:
        import resource

        # systemd's default soft limit; lowered on the live daemon, which root may do
        resource.prlimit(b.pid, resource.RLIMIT_NOFILE, (1024, 1024))
        r["connections_past_fd_limit"] = M.api_connections(b, 1500)
        r["connections_past_fd_limit"]["after"] = M.lan_still_works(lan)
    return r


GROUPS = {
    "spec": g_spec, "rewrap": g_rewrap, "junk": g_junk, "catchup": g_catchup, "reassembly": g_reassembly,
    "amplification": g_amplification, "peers": g_peers, "work": g_work, "link": g_link, "api": g_api,
}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default=",".join(GROUPS))
    p.add_argument("--json", default=None)
    a = p.parse_args()
    ok, why = available()
    if not ok:
        print(f"probe: skipped: {why}")
        return 0
    results: dict = {}
    for name in a.only.split(","):
        t0 = time.time()
        print(f"probe: {name} …", file=sys.stderr, flush=True)
        try:
            with LAN(honest=2) as lan:
                results[name] = GROUPS[name](lan)
                results[name]["_logs"] = {d.name: d.log_tail(5) for d in lan.daemons if not d.running}
        except Exception:
            results[name] = {"error": traceback.format_exc()}
        results[name]["_seconds"] = round(time.time() - t0)
        print(json.dumps({name: results[name]}, indent=1, default=str), file=sys.stderr, flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
