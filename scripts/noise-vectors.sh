#!/usr/bin/env bash
# Prepares the Noise test vectors that the core tests read (Tests/EstafetteCoreTests/NoiseVectors+Tests.swift),
# in $ESTAFETTE_NOISE_VECTORS or .build/noise-vectors. Idempotent; needs apt (Debian) and pip (PyPI).
#  1. flynn-noise-vectors.txt: the test vectors published by flynn/noise (a Go implementation of Noise), taken
#     unchanged from Debian's golang-github-flynn-noise-dev (downloaded and unpacked, not installed).
#  2. noiseprotocol-vectors.json: vectors written by PyPI's noiseprotocol 0.3.1, an independent implementation
#     that passes cacophony's vectors, for Estafette's prologue and limits (scripts/noise-reference-vectors.py).
# Cacophony's own cacophony.txt is shipped by no Debian or PyPI package; a developer may copy it into the same
# directory and the tests use it too.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${ESTAFETTE_NOISE_VECTORS:-$PWD/.build/noise-vectors}"
mkdir -p "$out"

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi

if [ ! -s "$out/flynn-noise-vectors.txt" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    chmod 755 "$tmp" # readable by apt; as root apt downloads into it unsandboxed (a harmless warning)
    if ! (cd "$tmp" && apt-get download -qq golang-github-flynn-noise-dev 2>/dev/null); then
        echo "estafette: apt-get update, then downloading golang-github-flynn-noise-dev" >&2
        $sudo apt-get update -qq
        (cd "$tmp" && apt-get download -qq golang-github-flynn-noise-dev)
    fi
    dpkg-deb -x "$tmp"/golang-github-flynn-noise-dev_*.deb "$tmp/root"
    cp "$tmp/root/usr/share/gocode/src/github.com/flynn/noise/vectors.txt" "$out/flynn-noise-vectors.txt.tmp"
    cp "$tmp/root/usr/share/doc/golang-github-flynn-noise-dev/copyright" "$out/flynn-noise-copyright"
    mv "$out/flynn-noise-vectors.txt.tmp" "$out/flynn-noise-vectors.txt"
fi

if [ ! -s "$out/noiseprotocol-vectors.json" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --target "$out/python" noiseprotocol==0.3.1
    PYTHONPATH="$out/python" python3 scripts/noise-reference-vectors.py >"$out/noiseprotocol-vectors.json.tmp"
    mv "$out/noiseprotocol-vectors.json.tmp" "$out/noiseprotocol-vectors.json"
fi

echo "estafette: Noise test vectors in $out:" >&2
(cd "$out" && sha256sum flynn-noise-vectors.txt noiseprotocol-vectors.json) >&2
