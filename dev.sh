#!/usr/bin/env bash
# glassgrad's two commands, each doing all of its own set-up on a fresh machine:
#   bash dev.sh demo    run the main demo (a tour of the examples)
#   bash dev.sh test    run the whole test suite
# Set-up: a virtual environment in .venv, the project installed into it with its test extras
# (again only when pyproject.toml changes), and the system programs Graphviz (`dot`) and
# Chromium, installed with apt-get where this user can, named in a message where not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

say() { printf '[dev.sh] %s\n' "$*" >&2; }

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3.10 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    say "glassgrad needs Python 3.10 or newer. Install it (Debian: apt-get install python3 python3-venv)"
    say "or point PYTHON at one: PYTHON=/path/to/python3.11 bash dev.sh $MODE"
    exit 1
}

apt_install() {  # apt_install PACKAGE... : true if installed, false if this user cannot
    local sudo=""
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else return 1; fi
    fi
    say "installing $* with apt-get (once)"
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_program() {  # need_program PROGRAM PACKAGE WHAT-FOR
    command -v "$1" >/dev/null 2>&1 && return 0
    apt_install "$2" && command -v "$1" >/dev/null 2>&1 && return 0
    say "'$1' is missing, and this user cannot install it; $3."
    say "install it with: sudo apt-get install $2   (macOS: brew install $2)"
    return 1
}

setup_venv() {
    local python stamp want
    if [ ! -x .venv/bin/python ]; then
        python=$(find_python)
        say "creating .venv with $python"
        if ! "$python" -m venv .venv 2>/dev/null; then
            rm -rf .venv
            apt_install python3-venv || true
            "$python" -m venv .venv || {
                say "could not create a virtual environment: install python3-venv (sudo apt-get install python3-venv)"
                exit 1
            }
        fi
    fi
    stamp=.venv/.glassgrad-installed
    want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing glassgrad and its test extras into .venv (pip, once per pyproject change)"
        .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
        echo "$want" >"$stamp"
    fi
}

MODE=${1:-}
case "$MODE" in
demo)
    setup_venv
    need_program dot graphviz "the demo will print graphs as DOT text instead of drawing them" || true
    shift
    exec .venv/bin/python -m demos "$@"
    ;;
test)
    setup_venv
    missing=0
    need_program dot graphviz "graph rendering tests need it" || missing=1
    need_program chromium chromium "browser tests of the HTML player need it" || missing=1
    if [ "$missing" = 1 ] && [ -n "${CI:-}" ]; then
        say "CI must run every test: install the programs named above"
        exit 1
    fi
    shift
    # CI selects the 'ci' Hypothesis profile; locally the quick 'dev' one (see tests/conftest.py).
    export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-$([ -n "${CI:-}" ] && echo ci || echo dev)}
    # Two workers (pytest-xdist), a test file per worker at a time: the suite's browser, kernel
    # and subprocess tests wait as much as they compute. `-n 0` runs it in one process.
    exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
    ;;
*)
    echo "usage: bash dev.sh demo | test [pytest arguments]" >&2
    exit 2
    ;;
esac
