#!/usr/bin/env bash
# Prints how long Argon2id (libsodium's crypto_pwhash) takes here for the channel key's parameters and a few
# others, best of 3 runs each, wall-clock and CPU time (CPU time is less disturbed by other processes) (docs/decisions.md, "Channels and blocking"). Needs a C compiler and libsodium-dev.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/m.c" <<'C'
#include <sodium.h>
#include <stdio.h>
#include <time.h>
static double clk(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void) {
    if (sodium_init() < 0) return 1;
    unsigned char out[32], salt[16] = {0};
    int ops[] = {2, 3, 4, 2, 3};
    size_t mib[] = {64, 64, 64, 128, 128};
    for (int i = 0; i < 5; i++) {
        double best = 1e9, bestCPU = 1e9;
        for (int r = 0; r < 3; r++) {
            double t = clk(CLOCK_MONOTONIC), c = clk(CLOCK_PROCESS_CPUTIME_ID);
            if (crypto_pwhash(out, 32, "passphrase", 10, salt, ops[i], mib[i] << 20, crypto_pwhash_ALG_ARGON2ID13) != 0)
                return 2;
            double d = clk(CLOCK_MONOTONIC) - t, dc = clk(CLOCK_PROCESS_CPUTIME_ID) - c;
            if (d < best) best = d;
            if (dc < bestCPU) bestCPU = dc;
        }
        printf("argon2id ops %d mem %zu MiB: %.0f ms wall, %.0f ms CPU%s\n", ops[i], mib[i], best * 1000, bestCPU * 1000,
               ops[i] == 3 && mib[i] == 64 ? "   <- channel key" : "");
    }
    return 0;
}
C
cc -O2 "$dir/m.c" $(pkg-config --cflags --libs libsodium) -o "$dir/m"
"$dir/m"
