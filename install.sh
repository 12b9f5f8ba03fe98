#!/bin/sh
# Install kubectl-nodeapp from this clone.
#
#   ./install.sh          create .venv/, install the package, link the kubectl plugins
#                         into ${PREFIX:-$HOME/.local}/bin
#   ./install.sh --dev    the same, plus the dev tools (pytest, ruff, mypy, a real kubectl)
#
# Idempotent: a second run only re-links, unless pyproject.toml changed.
set -eu

usage() {
    echo "usage: ./install.sh [--dev] [--no-link]"
}

dev=0
link=1
for arg in "$@"; do
    case "$arg" in
        --dev) dev=1 ;;
        --no-link) link=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")" && pwd)
venv="$root/.venv"

say() { printf '%s\n' "install.sh: $*"; }
die() { printf '%s\n' "install.sh: error: $*" >&2; exit 1; }

python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

# 1. A Python >= 3.11 (PYTHON=/path/to/python overrides the search).
py=""
if [ -n "${PYTHON:-}" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON is not an executable"
    python_ok "$PYTHON" || die "PYTHON=$PYTHON is older than 3.11; kubectl-nodeapp needs Python >= 3.11"
    py=$PYTHON
else
    for candidate in python3 python3.13 python3.12 python3.11 python; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            py=$(command -v "$candidate")
            break
        fi
    done
    if [ -z "$py" ]; then
        if command -v python3 >/dev/null 2>&1; then
            die "$(python3 -V 2>&1) is too old; kubectl-nodeapp needs Python >= 3.11 (set PYTHON=/path/to/python3.x)"
        fi
        die "no Python found; install Python >= 3.11 (or set PYTHON=/path/to/python3)"
    fi
fi

# 2. The virtual environment (re-created when it is broken, e.g. after a Python upgrade).
if [ -x "$venv/bin/python" ] && ! python_ok "$venv/bin/python"; then
    say "the existing .venv is broken or too old; re-creating it"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv with $("$py" -V 2>&1)"
    "$py" -m venv "$venv" || die "could not create a virtual environment (on Debian/Ubuntu: apt install python3-venv)"
fi

# 3. The package (editable, so a git pull needs no reinstall), skipped when nothing changed.
extra=""
[ "$dev" -eq 1 ] && extra="[dev]"
stamp="$venv/.kubectl-nodeapp-installed"
want="$(cksum < "$root/pyproject.toml") $extra"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import kubectl_trace' >/dev/null 2>&1; then
    say "package already installed in .venv${extra:+ (with $extra)}"
else
    say "installing kubectl-nodeapp${extra:+ with $extra} into .venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root$extra" --config-settings editable_mode=compat \
        || die "pip install failed (see above)"
    printf '%s\n' "$want" > "$stamp"
fi
# Byte-code of the package, as pip writes it for a regular install: the first run of each
# command then starts as fast as the next (quick when nothing changed).
"$venv/bin/python" -m compileall -q "$root/kubectl_trace" >/dev/null 2>&1 || true

# 4. The kubectl plugins on PATH.
if [ "$link" -eq 1 ]; then
    bindir="${PREFIX:-$HOME/.local}/bin"
    mkdir -p "$bindir" || die "cannot create $bindir"
    for exe in "$root"/bin/kubectl-* "$root"/bin/kubectl_complete-*; do
        [ -f "$exe" ] || continue
        ln -sf "$exe" "$bindir/$(basename "$exe")"
    done
    say "linked the kubectl-nodeapp executables into $bindir"
    case ":$PATH:" in
        *":$bindir:"*) ;;
        *) say "add it to your PATH:  export PATH=\"$bindir:\$PATH\"" ;;
    esac
fi

say "done. Try: kubectl nodeapp demo   (or: $root/bin/kubectl-nodeapp demo)"
