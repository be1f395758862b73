#!/usr/bin/env python3
"""Writes Noise test vectors made by an independent implementation, the PyPI package `noiseprotocol` (0.3.1,
which passes the published cacophony vectors), in cacophony's JSON layout, to standard output.

It plays both roles with fixed keys and checks that each side reads what the other wrote, so every message in
the output was accepted by the reference. Estafette's Swift implementation must produce the same bytes
(Tests/EstafetteCoreTests/NoiseVectors+Tests.swift). Covered beyond the published vectors: Estafette's own
prologue `estafette-relay/1`, payloads up to the 65535-byte message limit, and Rekey(), marked on a message by
the extra field "rekey": true (sender and receiver rekey that direction before it).

Run by scripts/noise-vectors.sh; needs `noiseprotocol` on PYTHONPATH.
"""

import hashlib
import json
import sys
import warnings

from noise.connection import Keypair, NoiseConnection

MAX_MESSAGE = 65535
TAG = 16


def key(label):
    """A fixed 32-byte secret, derived so that nothing here is a hand-typed constant."""
    return hashlib.blake2b(b"estafette-noise-vector/" + label.encode(), digest_size=32).digest()


def payload(label, size):
    """`size` deterministic bytes."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.blake2b(b"%s/%d" % (label.encode(), counter), digest_size=64).digest()
        counter += 1
    return out[:size]


def public_of(secret):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def run(pattern, prologue, handshake_payloads, transport, name):
    """One session: handshake_payloads[i] goes in handshake message i; transport is a list of
    (payload, rekey) sent alternately starting with the side that did not send the last handshake message,
    as in cacophony's files."""
    protocol = "Noise_%s_25519_ChaChaPoly_BLAKE2b" % pattern
    init_s, resp_s = key(name + "/init-static"), key(name + "/resp-static")
    init_e, resp_e = key(name + "/init-ephemeral"), key(name + "/resp-ephemeral")
    initiator = NoiseConnection.from_name(protocol.encode())
    responder = NoiseConnection.from_name(protocol.encode())
    initiator.set_as_initiator()
    responder.set_as_responder()
    for side in (initiator, responder):
        side.set_prologue(prologue)
    vector = {
        "protocol_name": protocol,
        "init_prologue": prologue.hex(),
        "resp_prologue": prologue.hex(),
        "init_ephemeral": init_e.hex(),
        "resp_ephemeral": resp_e.hex(),
    }
    initiator.set_keypair_from_private_bytes(Keypair.EPHEMERAL, init_e)
    responder.set_keypair_from_private_bytes(Keypair.EPHEMERAL, resp_e)
    if pattern[0] in "XIK":
        initiator.set_keypair_from_private_bytes(Keypair.STATIC, init_s)
        vector["init_static"] = init_s.hex()
    if pattern[0] == "K":
        responder.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, public_of(init_s))
        vector["resp_remote_static"] = public_of(init_s).hex()
    if pattern[1] in "KX":
        responder.set_keypair_from_private_bytes(Keypair.STATIC, resp_s)
        vector["resp_static"] = resp_s.hex()
    if pattern[1] == "K":
        initiator.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, public_of(resp_s))
        vector["init_remote_static"] = public_of(resp_s).hex()
    initiator.start_handshake()
    responder.start_handshake()

    messages = []
    sides = [initiator, responder]
    for i, data in enumerate(handshake_payloads):
        writer, reader = sides[i % 2], sides[(i + 1) % 2]
        message = bytes(writer.write_message(data))
        assert len(message) <= MAX_MESSAGE
        assert bytes(reader.read_message(message)) == data
        messages.append({"payload": data.hex(), "ciphertext": message.hex()})
    assert initiator.handshake_finished and responder.handshake_finished
    assert initiator.get_handshake_hash() == responder.get_handshake_hash()
    vector["handshake_hash"] = initiator.get_handshake_hash().hex()

    for j, (data, rekey) in enumerate(transport):
        i = len(handshake_payloads) + j
        writer, reader = sides[i % 2], sides[(i + 1) % 2]
        if rekey:
            writer.rekey_outbound_cipher()
            reader.rekey_inbound_cipher()
        message = writer.encrypt(data)
        assert len(message) <= MAX_MESSAGE
        assert reader.decrypt(message) == data
        entry = {"payload": data.hex(), "ciphertext": message.hex()}
        if rekey:
            entry["rekey"] = True
        messages.append(entry)
    vector["messages"] = messages
    return vector


def main():
    # noiseprotocol warns when ephemeral keys are fixed, which is the point of test vectors.
    warnings.filterwarnings("ignore", message="One of ephemeral keypairs is already set")
    relay = b"estafette-relay/1"
    hello = payload("hello", 40)
    largest = MAX_MESSAGE - TAG
    vectors = [
        # Estafette's relay handshake with empty payloads: messages of exactly 48, 48 and 64 bytes.
        run("XK", relay, [b"", b"", b""], [(b"", False), (b"", False), (payload("a", 1), False)], "xk-empty"),
        # Payloads in every handshake message, then transport both ways, the largest plaintext, and Rekey().
        run(
            "XK",
            relay,
            [hello, payload("m2", 100), payload("m3", 1000)],
            [
                (payload("t0", 1200), False),
                (payload("t1", 17), False),
                (payload("t2", largest), False),
                (payload("t3", largest), False),
                (payload("t4", 33), True),
                (payload("t5", 5), False),
                (payload("t6", 64), True),
                (payload("t7", 0), False),
            ],
            "xk-payloads",
        ),
        # The largest first message the limit allows: 65535 = 32 + payload + 16.
        run("XK", relay, [payload("big1", MAX_MESSAGE - 48), b"", payload("big3", MAX_MESSAGE - 64)], [], "xk-big"),
        # An empty prologue, and NN (no static keys) as a cross-check of the pattern-independent parts.
        run("XK", b"", [b"", b"", b""], [(b"x", False), (b"y", False)], "xk-no-prologue"),
        run("NN", relay, [payload("nn1", 3), payload("nn2", 4)], [(b"z", False), (b"w", False)], "nn"),
    ]
    json.dump({"generator": "noiseprotocol 0.3.1 via scripts/noise-reference-vectors.py", "vectors": vectors},
              sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
