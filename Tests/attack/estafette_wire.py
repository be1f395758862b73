"""Estafette wire format (protocol version 1), written from docs/protocol.md only.

A test attacker's toolbox: identities and IDs, envelopes, direct messages sealed for a known recipient, signed
alerts, and every LAN datagram type (sealed with the public mesh key), plus their parsers. Nothing here reads
the daemon's sources; if the daemon accepts what this module builds, the document is a usable spec.

All integers are big-endian. Needs PyNaCl (libsodium bindings).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.signing

# ---------------------------------------------------------------- constants (docs/protocol.md)

MAGIC = b"ES"
VERSION = 1
AD = MAGIC + bytes([VERSION])
PUBLIC_MESH_KEY = hashlib.blake2b(b"estafette/mesh/public/v1", digest_size=32).digest()
MAX_DATAGRAM = 1200
SEALED_OVERHEAD = 3 + 24 + 16  # magic, version, nonce; Poly1305 tag
MAX_PLAINTEXT = MAX_DATAGRAM - SEALED_OVERHEAD  # type ‖ session ‖ payload
MAX_PAYLOAD = MAX_PLAINTEXT - 9
CHUNK = MAX_PAYLOAD - 16  # fragment chunk: 1,132 bytes
MAX_PREFIXES = 136
MAX_TAG = 16
MAX_BODY = 32832
MAX_LIFETIME = 7 * 86400
KIND_DIRECT, KIND_CHANNEL, KIND_ALERT, KIND_RECEIPT = 1, 2, 3, 4
T_BEACON, T_ENVELOPE, T_FRAGMENT, T_INVENTORY, T_WANT, T_CODED, T_PARITY = 1, 2, 3, 4, 5, 6, 7
T_SUMMARY = 9  # range summaries (MeshNode.Settings.rangeSummaries); type 8 is unassigned
MAX_SUMMARY_RANGES = 32
TYPE_NAMES = {
    1: "beacon", 2: "envelope", 3: "fragment", 4: "inventory", 5: "want", 6: "coded", 7: "parity", 9: "summary",
}


class WireError(ValueError):
    """A datagram or envelope that does not decode."""


# ---------------------------------------------------------------- GF(2^8), polynomial 0x11D

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def gf_pow(a: int, n: int) -> int:
    if n == 0:
        return 1
    return 0 if a == 0 else _EXP[(_LOG[a] * n) % 255]


def gf_add_scaled(acc: bytearray, data: bytes, c: int) -> None:
    """acc += c · data (data zero-padded to len(acc))."""
    if c == 0:
        return
    table = bytes(gf_mul(c, v) for v in range(256))
    for i, v in enumerate(data):
        acc[i] ^= table[v]


# ---------------------------------------------------------------- identity


@dataclass
class Identity:
    """An Ed25519 key pair and its X25519 counterpart."""

    signing: nacl.signing.SigningKey

    @staticmethod
    def generate() -> "Identity":
        return Identity(nacl.signing.SigningKey.generate())

    @property
    def pk(self) -> bytes:
        return bytes(self.signing.verify_key)

    @property
    def x_pk(self) -> bytes:
        return sodium.crypto_sign_ed25519_pk_to_curve25519(self.pk)

    @property
    def x_sk(self) -> bytes:
        sk = sodium.crypto_sign_seed_keypair(bytes(self.signing))[1]
        return sodium.crypto_sign_ed25519_sk_to_curve25519(sk)

    @property
    def text_id(self) -> str:
        return id_text(self.pk)


def id_text(pk: bytes) -> str:
    """`es1` + base32(pk ‖ BLAKE2b-256("estafette-id" ‖ pk)[0:4]), lower case, unpadded: 61 characters."""
    check = hashlib.blake2b(b"estafette-id" + pk, digest_size=32).digest()[:4]
    return "es1" + base64.b32encode(pk + check).decode().lower().rstrip("=")


def parse_id(text: str) -> bytes:
    """The public key of a textual ID (case, spaces and dashes ignored); raises WireError on a bad one."""
    t = text.replace(" ", "").replace("-", "").lower()
    if not t.startswith("es1") or len(t) != 61:
        raise WireError(f"not an ID: {text!r}")
    raw = base64.b32decode(t[3:].upper() + "=" * (-len(t[3:]) % 8))
    pk, check = raw[:32], raw[32:]
    if hashlib.blake2b(b"estafette-id" + pk, digest_size=32).digest()[:4] != check:
        raise WireError("bad ID checksum")
    return pk


# ---------------------------------------------------------------- envelope


@dataclass
class Envelope:
    kind: int
    expires_at: int
    body: bytes
    tag: bytes = b""
    version: int = VERSION

    def header(self) -> bytes:
        return struct.pack(">BBQB", self.version, self.kind, self.expires_at, len(self.tag)) + self.tag

    def encode(self) -> bytes:
        return self.header() + struct.pack(">I", len(self.body)) + self.body

    @property
    def id(self) -> bytes:
        return envelope_id(self.encode())


def envelope_id(encoded: bytes) -> bytes:
    return hashlib.blake2b(encoded, digest_size=32).digest()


def prefix_of(encoded: bytes) -> int:
    """The 8-byte ID prefix (stream, inventory entry) of an encoded envelope, as an integer."""
    return int.from_bytes(envelope_id(encoded)[:8], "big")


def decode_envelope(data: bytes) -> tuple[Envelope, int]:
    """Decodes one envelope at the start of `data`; returns it and the number of bytes it took."""
    if len(data) < 15:
        raise WireError("envelope too short")
    ver, kind, exp, tlen = struct.unpack_from(">BBQB", data)
    if tlen > MAX_TAG or len(data) < 15 + tlen:
        raise WireError("bad tag length")
    tag = data[11 : 11 + tlen]
    (blen,) = struct.unpack_from(">I", data, 11 + tlen)
    if blen > MAX_BODY or len(data) < 15 + tlen + blen:
        raise WireError("bad body length")
    end = 15 + tlen + blen
    return Envelope(kind, exp, data[15 + tlen : end], tag, ver), end


def coarse_expiry(now: int, lifetime: int = MAX_LIFETIME) -> int:
    t = now + lifetime
    return t - t % 60


# ---------------------------------------------------------------- direct messages and alerts


def _bucket(n: int) -> int:
    """Smallest power of two from 256 to 32768 that holds n bytes plus the padding marker."""
    b = 256
    while b <= n:
        b *= 2
    if b > 32768:
        raise WireError("inner too long for a bucket")
    return b


def seal_direct(
    sender: Identity, recipient_pk: bytes, text: str | bytes, created_at: int, expires_at: int, content_type: int = 1
) -> Envelope:
    """A kind-1 envelope: crypto_box_seal(recipient, pad(sender_pk ‖ nonce ‖ crypto_box_easy(plain)))."""
    raw = text.encode() if isinstance(text, str) else text
    plain = struct.pack(">QQB", created_at, expires_at, content_type) + raw
    nonce = os.urandom(24)
    rx = sodium.crypto_sign_ed25519_pk_to_curve25519(recipient_pk)
    inner = sender.pk + nonce + sodium.crypto_box(plain, nonce, rx, sender.x_sk)
    padded = sodium.sodium_pad(inner, _bucket(len(inner)))
    return Envelope(KIND_DIRECT, expires_at, sodium.crypto_box_seal(padded, rx))


def open_direct(me: Identity, env: Envelope) -> tuple[bytes, int, int, bytes]:
    """(sender_pk, created_at, expires_at, text) of a direct message for `me`; raises on any failure."""
    padded = sodium.crypto_box_seal_open(env.body, me.x_pk, me.x_sk)
    inner = sodium.sodium_unpad(padded, len(padded))
    sender, nonce, boxed = inner[:32], inner[32:56], inner[56:]
    plain = sodium.crypto_box_open(boxed, nonce, sodium.crypto_sign_ed25519_pk_to_curve25519(sender), me.x_sk)
    created, expires, _ = struct.unpack_from(">QQB", plain)
    return sender, created, expires, plain[17:]


def sign_alert(
    author: Identity, seq: int, created_at: int, text: str | bytes, expires_at: int, tag: bytes = b""
) -> Envelope:
    """A kind-3 envelope: author_pk ‖ seq ‖ created_at ‖ text_len ‖ text ‖ Ed25519 signature."""
    raw = text.encode() if isinstance(text, str) else text
    env = Envelope(KIND_ALERT, expires_at, b"", tag)
    unsigned = author.pk + struct.pack(">QQH", seq, created_at, len(raw)) + raw
    sig = author.signing.sign(b"estafette/alert/v1" + env.header() + unsigned).signature
    env.body = unsigned + sig
    return env


def parse_alert(env: Envelope) -> tuple[bytes, int, int, bytes]:
    pk = env.body[:32]
    seq, created, tlen = struct.unpack_from(">QQH", env.body, 32)
    return pk, seq, created, env.body[50 : 50 + tlen]


# ---------------------------------------------------------------- datagrams


def seal(plaintext: bytes, key: bytes = PUBLIC_MESH_KEY) -> bytes:
    if len(plaintext) > MAX_PLAINTEXT:
        raise WireError(f"plaintext of {len(plaintext)} bytes does not fit a datagram")
    nonce = os.urandom(24)
    return AD + nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, AD, nonce, key)


def open_datagram(datagram: bytes, key: bytes = PUBLIC_MESH_KEY) -> tuple[int, int, bytes]:
    """(type, session, payload) of a datagram; raises WireError when it does not open."""
    if len(datagram) < SEALED_OVERHEAD + 9 or datagram[:3] != AD:
        raise WireError("not an Estafette v1 datagram")
    try:
        pt = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(datagram[27:], AD, datagram[3:27], key)
    except Exception as e:  # nacl.exceptions.CryptoError
        raise WireError("does not open with this mesh key") from e
    return pt[0], int.from_bytes(pt[1:9], "big"), pt[9:]


def packet(ptype: int, session: int, payload: bytes, key: bytes = PUBLIC_MESH_KEY) -> bytes:
    return seal(bytes([ptype]) + session.to_bytes(8, "big") + payload, key)


def beacon(session: int, count: int, digest: bytes) -> bytes:
    """A beacon with these wire fields as given (forged ones are random). An honest node sends
    `beacon(session, beacon_count(n), beacon_digest(session, xor_of_ids))`."""
    return packet(T_BEACON, session, struct.pack(">I", count) + digest)


def beacon_digest(session: int, xor_digest: bytes) -> bytes:
    """A beacon's digest field: the XOR of the IDs held, keyed by the sender's session, so that two sessions of
    one node never send an equal field (docs/protocol.md, type 1)."""
    return hashlib.blake2b(b"estafette/beacon/v1" + struct.pack(">Q", session) + xor_digest, digest_size=32).digest()


def beacon_count(n: int) -> int:
    """A beacon's count field: the number of envelopes held, rounded down to its two most significant bits."""
    n = min(n, 2**32 - 1)
    if n <= 3:
        return n
    shift = n.bit_length() - 2
    return (n >> shift) << shift


def xor_ids(ids: list[bytes]) -> bytes:
    out = bytearray(32)
    for i in ids:
        for k in range(32):
            out[k] ^= i[k]
    return bytes(out)


def envelope_packet(session: int, encoded: bytes) -> bytes:
    return packet(T_ENVELOPE, session, encoded)


def fragment(session: int, stream: int, offset: int, total: int, chunk: bytes) -> bytes:
    return packet(T_FRAGMENT, session, struct.pack(">QII", stream, offset, total) + chunk)


def parity(session: int, stream: int, total: int, index: int, chunk: bytes) -> bytes:
    return packet(T_PARITY, session, struct.pack(">QIB", stream, total, index) + chunk)


def inventory(session: int, lo: int, hi: int, count: int, digest: bytes, prefixes: list[int]) -> bytes:
    body = struct.pack(">QQI", lo, hi, count) + digest + struct.pack(">H", len(prefixes))
    return packet(T_INVENTORY, session, body + b"".join(p.to_bytes(8, "big") for p in prefixes))


def range_fingerprint(ids: list[bytes]) -> bytes:
    """A summary sub-range's fingerprint: SHA-256(Σ IDs as 256-bit little-endian mod 2²⁵⁶ ‖ varint(count))[:16]."""
    total = sum(int.from_bytes(i, "little") for i in ids) % (1 << 256)
    n = len(ids)
    varint = bytearray([n & 0x7F])
    n >>= 7
    while n:
        varint.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return hashlib.sha256(total.to_bytes(32, "little") + bytes(varint)).digest()[:16]


def summary(
    session: int, lo: int, hi: int, count: int, digest: bytes, ranges: list[tuple[int, int, bytes]]
) -> bytes:
    """A type 9 summary: [lo, hi] in consecutive sub-ranges (upper bound, count, 16-byte fingerprint)."""
    body = struct.pack(">QQI", lo, hi, count) + digest + bytes([len(ranges)])
    return packet(T_SUMMARY, session, body + b"".join(struct.pack(">QI", u, c) + f for u, c, f in ranges))


def want(session: int, target: int, need: int, prefixes: list[int]) -> bytes:
    body = struct.pack(">QHH", target, need, len(prefixes))
    return packet(T_WANT, session, body + b"".join(p.to_bytes(8, "big") for p in prefixes))


def coded(session: int, prefixes: list[int], coefficients: list[int], payload: bytes) -> bytes:
    n = len(prefixes)
    body = bytes([n]) + b"".join(p.to_bytes(8, "big") for p in prefixes) + bytes(coefficients)
    return packet(T_CODED, session, body + payload)


def combine(envelopes: list[bytes], coefficients: list[int]) -> tuple[list[int], bytes]:
    """Members (sorted prefixes) and payload Σ cᵢ·envelopeᵢ of a coded packet over these encoded envelopes."""
    pairs = sorted(zip((prefix_of(e) for e in envelopes), envelopes, coefficients))
    acc = bytearray(max(15, max(len(e) for e in envelopes)))
    for _, e, c in pairs:
        gf_add_scaled(acc, e, c)
    return [p for p, _, _ in pairs], bytes(acc)


def fragments_of(session: int, encoded: bytes, parity_indices: tuple[int, ...] = (0,)) -> list[bytes]:
    """The datagrams of an envelope: one envelope packet, or its 1,132-byte fragments and parities."""
    if len(encoded) <= MAX_PAYLOAD:
        return [envelope_packet(session, encoded)]
    stream = prefix_of(encoded)
    chunks = [encoded[i : i + CHUNK] for i in range(0, len(encoded), CHUNK)]
    out = [fragment(session, stream, i * CHUNK, len(encoded), c) for i, c in enumerate(chunks)]
    for index in parity_indices:
        acc = bytearray(CHUNK)
        alpha = gf_pow(2, index)
        for i, c in enumerate(chunks):
            gf_add_scaled(acc, c, gf_pow(alpha, i))
        out.append(parity(session, stream, len(encoded), index, bytes(acc)))
    return out


def parse_payload(ptype: int, p: bytes) -> dict:
    """The fields of a datagram's payload, by type (a dict for logging and capture)."""
    if ptype == T_BEACON:
        return {"count": struct.unpack_from(">I", p)[0], "digest": p[4:36]}
    if ptype == T_ENVELOPE:
        return {"envelope": p}
    if ptype == T_FRAGMENT:
        s, o, t = struct.unpack_from(">QII", p)
        return {"stream": s, "offset": o, "total": t, "chunk": p[16:]}
    if ptype == T_PARITY:
        s, t, i = struct.unpack_from(">QIB", p)
        return {"stream": s, "total": t, "index": i, "chunk": p[13:]}
    if ptype == T_INVENTORY:
        lo, hi, count = struct.unpack_from(">QQI", p)
        (n,) = struct.unpack_from(">H", p, 52)
        prefixes = [int.from_bytes(p[54 + 8 * i : 62 + 8 * i], "big") for i in range(n)]
        return {"lo": lo, "hi": hi, "count": count, "digest": p[20:52], "prefixes": prefixes}
    if ptype == T_WANT:
        target, need, n = struct.unpack_from(">QHH", p)
        prefixes = [int.from_bytes(p[12 + 8 * i : 20 + 8 * i], "big") for i in range(n)]
        return {"target": target, "need": need, "prefixes": prefixes}
    if ptype == T_CODED:
        n = p[0]
        members = [int.from_bytes(p[1 + 8 * i : 9 + 8 * i], "big") for i in range(n)]
        return {"members": members, "coefficients": list(p[1 + 8 * n : 1 + 9 * n]), "payload": p[1 + 9 * n :]}
    if ptype == T_SUMMARY:
        if len(p) < 53:
            raise WireError("truncated summary")
        lo, hi, count = struct.unpack_from(">QQI", p)
        n = p[52]
        if not 1 <= n <= MAX_SUMMARY_RANGES or len(p) != 53 + 28 * n:
            raise WireError("summary length")
        ranges = []
        for i in range(n):
            u, c = struct.unpack_from(">QI", p, 53 + 28 * i)
            ranges.append((u, c, p[65 + 28 * i : 81 + 28 * i]))
        return {"lo": lo, "hi": hi, "count": count, "digest": p[20:52], "ranges": ranges}
    raise WireError(f"unknown packet type {ptype}")


class Reassembly:
    """Collects fragments heard on the group into whole envelopes (for capture; no parity decoding)."""

    def __init__(self) -> None:
        self.partials: dict[int, dict[int, bytes]] = {}

    def add(self, stream: int, offset: int, total: int, chunk: bytes) -> bytes | None:
        if total > MAX_BODY + 64 or len(self.partials) > 4096:
            return None
        parts = self.partials.setdefault(stream, {})
        parts[offset] = chunk
        if sum(len(c) for c in parts.values()) != total:
            return None
        data = b"".join(parts[o] for o in sorted(parts))
        del self.partials[stream]
        return data if len(data) == total and prefix_of(data) == stream else None
