# Shared by scripts/run and scripts/test (sourced, not executed): find Python 3.11+,
# create .venv, install requirements.txt when it changed, compile translations.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
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
