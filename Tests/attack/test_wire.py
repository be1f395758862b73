"""The attacker's wire library against the arithmetic docs/protocol.md states (no daemon, no root needed).
Whether the daemon agrees is checked by test_hostile_lan.py's spec checks."""

from __future__ import annotations

import os
import time

import nacl.exceptions
import pytest

import estafette_wire as w


def test_gf256_uses_polynomial_0x11d():
    assert w.gf_mul(0x80, 2) == 0x1D  # x^8 = x^4 + x^3 + x^2 + 1
    assert all(w.gf_mul(a, w.gf_pow(a, 254)) == 1 for a in range(1, 256))  # every non-zero element inverts


def test_id_round_trip_and_checksum():
    me = w.Identity.generate()
    text = me.text_id
    assert len(text) == 61 and text.startswith("es1")
    assert w.parse_id(text.upper().replace("ES1", "es1-", 1)) == me.pk
    typo = text[:10] + ("a" if text[10] != "a" else "b") + text[11:]  # one mistyped character
    with pytest.raises(w.WireError):
        w.parse_id(typo)


def test_datagram_seal_and_open():
    d = w.want(7, 9, 3, [1, 2, 3])
    assert d[:3] == b"ES\x01" and len(d) <= w.MAX_DATAGRAM
    ptype, session, payload = w.open_datagram(d)
    assert (ptype, session) == (w.T_WANT, 7)
    assert w.parse_payload(ptype, payload) == {"target": 9, "need": 3, "prefixes": [1, 2, 3]}
    tampered = d[:-1] + bytes([d[-1] ^ 1])
    with pytest.raises(w.WireError):
        w.open_datagram(tampered)


def test_summary_round_trip():
    ids = [os.urandom(32) for _ in range(5)]
    ranges = [(1000, 2, w.range_fingerprint(ids[:2])), (2**64 - 1, 3, w.range_fingerprint(ids[2:]))]
    d = w.summary(7, 0, 2**64 - 1, 5, bytes(32), ranges)
    assert len(d) <= w.MAX_DATAGRAM
    ptype, session, payload = w.open_datagram(d)
    assert (ptype, session, w.TYPE_NAMES[ptype]) == (w.T_SUMMARY, 7, "summary")
    assert w.parse_payload(ptype, payload) == {
        "lo": 0, "hi": 2**64 - 1, "count": 5, "digest": bytes(32), "ranges": ranges,
    }
    largest = w.summary(7, 0, 2**64 - 1, 0, bytes(32), [(i, 0, bytes(16)) for i in range(w.MAX_SUMMARY_RANGES)])
    assert len(largest) <= w.MAX_DATAGRAM
    with pytest.raises(w.WireError):
        w.parse_payload(w.T_SUMMARY, payload[:-1])


def test_direct_message_opens_for_its_recipient_only():
    alice, bob = w.Identity.generate(), w.Identity.generate()
    now = int(time.time())
    env = w.seal_direct(alice, bob.pk, "hello", now, w.coarse_expiry(now))
    assert len(env.body) == 256 + 48  # the smallest bucket, sealed
    assert w.open_direct(bob, env) == (alice.pk, now, env.expires_at, b"hello")
    with pytest.raises(nacl.exceptions.CryptoError):
        w.open_direct(alice, env)


def test_fragments_and_parity_zero_rebuild_a_lost_chunk():
    encoded = w.Envelope(w.KIND_CHANNEL, int(time.time()) + 600, os.urandom(5000)).encode()
    pieces = [w.parse_payload(*w.open_datagram(d)[::2]) for d in w.fragments_of(1, encoded)]
    frags, par = pieces[:-1], pieces[-1]
    assert len(frags) == 5 and all(len(f["chunk"]) == w.CHUNK for f in frags[:-1])
    assert len(par["chunk"]) == w.CHUNK and par["index"] == 0
    lost = frags[2]["chunk"]
    rebuilt = bytearray(par["chunk"])
    for i, f in enumerate(frags):
        if i != 2:
            w.gf_add_scaled(rebuilt, f["chunk"], 1)
    assert bytes(rebuilt) == lost


def test_coded_packet_subtracts_to_the_missing_member():
    a = w.Envelope(w.KIND_CHANNEL, 2_000_000_000, b"first").encode()
    b = w.Envelope(w.KIND_CHANNEL, 2_000_000_000, b"second, longer").encode()
    members, payload = w.combine([a, b], [3, 7])
    coef = dict(zip((w.prefix_of(a), w.prefix_of(b)), (3, 7)))
    acc = bytearray(payload)
    w.gf_add_scaled(acc, a, coef[w.prefix_of(a)])  # subtract the member we hold
    inv = w.gf_pow(coef[w.prefix_of(b)], 254)
    solved = bytes(w.gf_mul(inv, x) for x in acc)
    assert solved.rstrip(b"\0") == b.rstrip(b"\0") and members == sorted(coef)


def test_beacon_fields_are_keyed_and_coarse():
    """docs/protocol.md, type 1: the digest is keyed by the session, the count keeps two significant bits."""
    assert [w.beacon_count(n) for n in (0, 1, 3, 5, 7, 13, 1000, 2**40)] == [0, 1, 3, 4, 6, 12, 768, 3 << 30]
    xor = w.xor_ids([bytes([1]) * 32, bytes([3]) * 32])
    assert xor == bytes([2]) * 32
    assert w.beacon_digest(1, xor) != w.beacon_digest(2, xor) != xor
