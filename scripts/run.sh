#!/usr/bin/env bash
# Installs what is missing, builds, installs the shell completions (as root), and runs the daemon on defaults
# (or with the arguments given).
#   scripts/run.sh                      # data in ~/.local/share/estafette, socket in $XDG_RUNTIME_DIR/estafette/
#   scripts/run.sh --config my.toml     # any estafetted option
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product estafetted >&2
swift build -c release --product estafette >&2
echo "estafette: CLI at $(pwd)/.build/release/estafette" >&2
scripts/install-completions.sh .build/release
exec .build/release/estafetted "$@"
