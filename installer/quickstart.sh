#!/usr/bin/env bash
# Set up MidiDrumiGen in ./.venv (first run only) and run one command; offline, no keys.
# Usage: installer/quickstart.sh [mididrumigen arguments...]   (default: generate "John Bonham")
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/_venv.sh
ensure_venv
if [ ! -f .venv/.core-installed ] || [ pyproject.toml -nt .venv/.core-installed ]; then
    echo "installing MidiDrumiGen into .venv (first run only)..." >&2
    pip_quiet -e .
    touch .venv/.core-installed
fi
if [ "$#" -eq 0 ]; then
    set -- generate "John Bonham"
fi
exec .venv/bin/mididrumigen "$@"
