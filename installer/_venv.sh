# Shared by the set-up scripts: find a Python 3.11+ and create ./.venv with it.
ensure_venv() {
    if [ -x .venv/bin/python ]; then
        return
    fi
    local py=""
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            py="$candidate"
            break
        fi
    done
    if [ -z "$py" ]; then
        echo "MidiDrumiGen needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
        exit 2
    fi
    "$py" -m venv .venv
    pip_quiet --upgrade pip
}

# pip install with its chatter kept in .venv/install.log; shown only when it fails.
pip_quiet() {
    if ! .venv/bin/python -m pip install --disable-pip-version-check "$@" >>.venv/install.log 2>&1; then
        tail -n 30 .venv/install.log >&2
        echo "installing $* failed; the whole log is in .venv/install.log" >&2
        exit 1
    fi
}
