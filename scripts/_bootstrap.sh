# Shared by scripts/run and scripts/test (sourced, not executed): find Python 3.11+,
# create .venv, install requirements.txt when it changed, compile translations.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The machine reference loop of the benchmarks (standard library only), in seconds.
_SPEED_PROBE='import sys; sys.path.insert(0, sys.argv[1]); from _setup import loop_seconds; print(f"{loop_seconds(2_000_000):.4f}")'

# The interpreter that creates .venv: $PYTHON when set, else the fastest Python 3.11+ on PATH
# that can make a venv. Builds of one version differ: Debian's python3.11 is profile-guided
# and link-time optimized (so is the python:3.11-slim image of the Dockerfile), pyenv's
# default build is neither and ran bench/email_ingest.py about 10 % slower on the same machine.
# The candidates take turns at the probe for three rounds and the median decides, so one
# moment of a busy (or briefly idle) machine does not; only when .venv is created (~3 s).
find_python() {
    local name path exe seconds round best="" best_seconds=""
    local -a candidates=()
    local -A seen=() times=()
    if [ -n "${PYTHON:-}" ]; then
        "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || return 1
        command -v "$PYTHON"
        return 0
    fi
    for name in python3.13 python3.12 python3.11 python3; do
        while IFS= read -r path; do
            exe="$("$path" -c 'import ensurepip, os, sys, venv
sys.exit(1) if sys.version_info < (3, 11) else print(os.path.realpath(sys.executable))' 2>/dev/null)" || continue
            [ -n "$exe" ] && [ -z "${seen[$exe]:-}" ] || continue
            seen[$exe]=1
            candidates+=("$exe")
        done < <(type -aP "$name" 2>/dev/null)
    done
    for round in 1 2 3; do
        for exe in "${candidates[@]}"; do
            seconds="$("$exe" -c "$_SPEED_PROBE" "$ROOT/bench" 2>/dev/null)" || continue
            times[$exe]="${times[$exe]:-} $seconds"
        done
    done
    for exe in "${candidates[@]}"; do
        [ -n "${times[$exe]:-}" ] || continue
        seconds="$(printf '%s\n' ${times[$exe]} | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
        if [ -z "$best" ] || awk -v a="$seconds" -v b="$best_seconds" 'BEGIN { exit !(a < b) }'; then
            best="$exe"
            best_seconds="$seconds"
        fi
    done
    [ -n "$best" ] || return 1
    echo "$best"
}

ensure_venv() {
    local python stamp wanted
    if [ ! -x .venv/bin/python ]; then
        python="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"
        log "Creating .venv with $python ($("$python" --version 2>&1))"
        "$python" -m venv .venv || die "could not create .venv (Debian/Ubuntu: apt-get install python3-venv)"
    fi
    # Reinstall only when requirements.txt changed since the last successful install.
    stamp=.venv/.requirements.sha256
    wanted="$(sha256sum requirements.txt | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        log "Installing requirements.txt into .venv"
        # (The filter drops pip's notes about this machine's optional local indexes.)
        .venv/bin/python -m pip install --quiet -r requirements.txt \
            2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) || die "pip install failed"
        echo "$wanted" > "$stamp"
    fi
    export PATH="$ROOT/.venv/bin:$PATH"
    export VIRTUAL_ENV="$ROOT/.venv"
    export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-helpdesk.settings}"
    export PYTHONUNBUFFERED=1
}

# Turn locale/*.po into .mo when gettext's msgfmt is installed; otherwise the committed
# .mo files are used as they are.
compile_messages() {
    if ! command -v msgfmt >/dev/null 2>&1; then
        log "msgfmt not found (apt-get install gettext): using the committed .mo files"
        return 0
    fi
    if ! find . -path ./.venv -prune -o -name '*.po' -print -quit | grep -q .; then
        return 0
    fi
    python manage.py compilemessages --verbosity 0 \
        --ignore=.venv --ignore=var --ignore=staticfiles --ignore=node_modules --ignore=.git \
        || die "compilemessages failed"
}
