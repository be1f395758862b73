"""Hostile LAN (issue 9): a test attacker that forges datagrams from docs/protocol.md against live daemons.

Today this file holds the spec checks (what the attacker's library builds, the daemon accepts), the honest
baseline of every scenario, and the attacks that the daemon already withstands. The attacks it does not yet
withstand are measured by probe.py (docs/attacks-baseline.md); each gets its test here with its defence.
"""

from __future__ import annotations

import measure as M
from lan import wait_until


# ---------------------------------------------------------------- spec checks


def test_dm_sealed_by_the_library_is_delivered(lan):
    r = M.spec_dm(lan)
    assert r["delivered"] and r["from_matches"], r


def test_alert_signed_by_the_library_is_shown(lan):
    r = M.alerts(lan, "past")
    assert r["shown"]["created now"], r


# ---------------------------------------------------------------- honest baselines


def test_baseline_dm_shown_once(lan):
    r = M.rewrap(lan, attack=False)
    assert r["shown"] == 1, r


def test_baseline_dms_arrive_without_flood(lan):
    r = M.junk(lan, attack=False, honest_dms=20, seconds=4)
    assert r["honest_arrived_30s_later"] == r["honest_sent"], r
    assert r["stored"] == 0, r


def test_baseline_node_that_was_away_catches_up(lan):
    r = M.catch_up(lan, None)
    assert r["caught_up_s"] is not None and r["caught_up_s"] <= 40, r


def test_baseline_long_message_arrives(lan):
    r = M.long_message(lan, rate=0)
    assert r["arrived_s"] is not None and r["arrived_s"] <= 30, r


def test_baseline_peers_are_the_honest_nodes(lan):
    a, b = lan.daemons
    assert wait_until(lambda: b.status()["peers"] == 1 and a.status()["peers"] == 1, 15) is not None


# ---------------------------------------------------------------- attacks withstood today


def test_rewrap_with_other_expiry_is_not_shown_again(lan):
    """Property 1, in part: the inner expiry must equal the envelope's, so a copy with a new expires_at is
    dropped (drop.expiry_mismatch)."""
    r = M.rewrap(lan, "expiry", 5)
    assert r["attacker"]["captured"] >= 1, r
    assert r["shown"] == 1, r
    assert r["counters_b"].get("drop.expiry_mismatch", 0) >= 5, r


def test_rewrap_with_other_version_is_refused(lan):
    r = M.rewrap(lan, "version", 3)
    assert r["attacker"]["captured"] >= 1, r
    assert r["shown"] == 1, r


def test_partial_flood_from_one_session_leaves_room_for_a_long_message(lan):
    """Property 4, in part: one source address opens at most 16 partials, so a flood of first fragments from a
    single session cannot fill the 2 MiB budget (nor from many: test_hostile_control.py)."""
    r = M.long_message(lan, rate=200, sessions=1, fill=5)
    assert r["arrived_s"] is not None and r["arrived_s"] <= 30, r
    assert r["drops_b"].get("drop.reassembly_source_limit", 0) > 0, r


def test_api_refuses_deeply_nested_json(lan):
    """Property 12, in part: 100,000 nested arrays get a parse error; the daemon stays up."""
    r = M.api_nesting(lan.daemons[1])
    assert r["daemon_alive"] and '"code":-32700' in r["answer"], r


def test_api_pipelined_requests_are_back_pressured(lan):
    """Property 12, in part: a client that writes requests and never reads the answers does not grow the
    daemon: it stops reading once its answers cannot be written."""
    M.fill_store(lan.daemons[0], short=50, long=0)
    M.sync(lan)
    r = M.api_in_flight(lan.daemons[1], seconds=8)
    assert r["daemon_alive"] and r["rss_growth_mb"] < 32, r
    assert M.lan_still_works(lan) == "DM a→b delivered"
