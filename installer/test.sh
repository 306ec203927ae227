#!/usr/bin/env bash
# Set up MidiDrumiGen with every extra in ./.venv and run the checks and all tests (fast, then slow).
# Usage: installer/test.sh [pytest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/_venv.sh
ensure_venv
if [ ! -f .venv/.dev-installed ] || [ pyproject.toml -nt .venv/.dev-installed ]; then
    echo "installing MidiDrumiGen with all extras into .venv (first run only)..." >&2
    # torch is pinned to the CPU build; install it first so nothing pulls a CUDA build.
    pip_quiet "torch==2.13.0"
    pip_quiet -e ".[research,desktop,madmom,dev]"
    touch .venv/.dev-installed .venv/.core-installed
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check mididrumigen tests
.venv/bin/ruff format --check mididrumigen tests
.venv/bin/mypy
.venv/bin/pytest -m "not slow" -q "$@"
.venv/bin/pytest -m slow -q "$@" || { rc=$?; [ "$rc" -eq 5 ] || exit "$rc"; }
