#!/usr/bin/env bash
# Set up MidiDrumiGen in ./.venv (first run only) and run one command; offline, no keys.
# Usage: installer/quickstart.sh [--with research|desktop|madmom[,...]] [mididrumigen arguments...]
#        (default command: generate "John Bonham")
set -euo pipefail
cd "$(dirname "$0")/.."
source installer/_venv.sh
extras=""
if [ "${1:-}" = "--with" ]; then
    extras="${2:?--with needs a list of extras, e.g. --with research}"
    shift 2
fi
ensure_venv
if [ ! -f .venv/.core-installed ] || [ pyproject.toml -nt .venv/.core-installed ]; then
    echo "installing MidiDrumiGen into .venv (first run only)..." >&2
    pip_quiet -e .
    touch .venv/.core-installed
fi
if [ -n "$extras" ]; then
    echo "installing the extras: $extras..." >&2
    case ",$extras," in
        # torch is pinned to the CPU build first, so nothing pulls a CUDA build.
        *,research,*) pip_quiet "torch==2.13.0" ;;
    esac
    pip_quiet -e ".[$extras]"
fi
if [ "$#" -eq 0 ]; then
    set -- generate "John Bonham"
fi
exec .venv/bin/mididrumigen "$@"
