#!/usr/bin/env bash
# One entry point for a fresh Debian/Ubuntu machine:
#
#   deploy/dev.sh console [ARGS...]   set up, then start the coach in the terminal
#   deploy/dev.sh test [PYTEST ARGS]  set up, then run lint and the whole test suite
#   deploy/dev.sh setup               only set up (Python venv + local Docker engine)
#   deploy/dev.sh stack up|down|test  the production stack (deploy/compose.yaml) built offline and
#                                     run against the Discord stand-in (deploy/stack.sh)
#   deploy/dev.sh lock                regenerate deploy/requirements.lock from pyproject.toml
#
# Setting up is idempotent and quick when nothing changed. Needs root (or sudo) for the
# packages and the Docker engine (deploy/engine/setup.sh).
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

say() { printf '[dev] %s\n' "$*" >&2; }
die() { printf '[dev] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root for: $*"
    fi
}

python_ok() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null && python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_python() {
    if PYTHON="$(find_python)"; then return 0; fi
    say "installing Python 3 with venv (apt)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
    PYTHON="$(find_python)" || die "Python 3.11 or newer is required"
}

ensure_venv() {
    local stamp="$VENV/.docker-coach-installed" want
    want="$(cat pyproject.toml deploy/requirements.lock | sha256sum | cut -d' ' -f1)"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
    ensure_python
    [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
    say "installing Docker Coach and its test tools into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    # The versions the image runs (deploy/requirements.lock) pin every dependency they share.
    # As constraints without the hashes: pip checks hashes only for a whole hashed install,
    # which an editable install of the project itself cannot be.
    awk '/^[A-Za-z0-9][A-Za-z0-9._-]*==/ {print $1}' deploy/requirements.lock >"$VENV/constraints.txt"
    "$VENV/bin/python" -m pip install -q -c "$VENV/constraints.txt" -e ".[test]"
    echo "$want" >"$stamp"
}

# Charts draw Korean labels with a font that has Hangul (Debian's fonts-nanum; the chart code
# finds it at its known path, or at the chart_font setting): never rely on the machine's fonts.
HANGUL_FONT=/usr/share/fonts/truetype/nanum/NanumGothic.ttf
ensure_fonts() {
    [ -f "$HANGUL_FONT" ] && return 0
    say "installing a font with Hangul for charts (apt: fonts-nanum)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-nanum >/dev/null
}

ensure_engine() {
    say "starting the local Docker engine (deploy/engine/setup.sh)"
    as_root bash "$ROOT/deploy/engine/setup.sh" >&2
}

# The local engine serves a stand-in for Docker Hub's search index (Docker Hub itself may be
# unreachable); point `docker search` at it unless the user chose an index.
use_local_index() {
    if [ -z "${COACH_SANDBOX__SEARCH_INDEX:-}" ] && curl -fsS -m 2 http://127.0.0.1:5001/v1/_ping >/dev/null 2>&1; then
        export COACH_SANDBOX__SEARCH_INDEX=127.0.0.1:5001
    fi
}

command="${1:-console}"
shift || true
case "$command" in
    setup)
        ensure_venv
        ensure_fonts
        ensure_engine
        ;;
    console)
        ensure_venv
        ensure_fonts || say "WARNING: no Hangul font; Korean chart labels will not show"
        if ! ensure_engine; then
            say "WARNING: no Docker engine; concepts and quizzes work, /docker and /practice will say the worker is unavailable"
        fi
        use_local_index
        exec "$VENV/bin/python" -m bot console "$@"
        ;;
    test)
        ensure_venv
        ensure_fonts
        ensure_engine
        use_local_index
        say "ruff"
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        say "import contracts"
        "$VENV/bin/lint-imports"
        say "mypy"
        "$VENV/bin/mypy" bot
        "$VENV/bin/python" -m bot content check
        say "pytest"
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    stack)
        ensure_venv
        ensure_engine
        exec bash "$ROOT/deploy/stack.sh" "$@"
        ;;
    lock)
        ensure_venv
        "$VENV/bin/python" -m pip install -q -e ".[lock]"
        say "resolving pyproject.toml's dependencies into deploy/requirements.lock (with hashes)"
        "$VENV/bin/pip-compile" -q --generate-hashes --strip-extras --allow-unsafe \
            --no-emit-index-url --no-emit-find-links -o deploy/requirements.lock pyproject.toml
        ;;
    *)
        die "usage: deploy/dev.sh console|test|setup|stack|lock [args...]"
        ;;
esac
