#!/usr/bin/env bash
# tessera in a real InvenTree (issue 18): on a fresh machine (CPython >= 3.11 with venv and
# pip, the Rust toolchain, package registries only) it builds InvenTree's virtual environment
# from its pinned requirements (once per requirements hash, reused afterwards), installs the
# package `tessera` from source into it, lints and type-checks the InvenTree part, builds the
# `tessera` CLI, and runs the end-to-end suite python/tests_inventree (which starts
# redis-server and InvenTree with 4 gunicorn workers on 127.0.0.1 and ephemeral ports, and
# stops them).
#
#   bash python/inventree_ci.sh            # from anywhere; exits non-zero on any failure
#
# INVENTREE_SRC       InvenTree's source (default: ../shared/inventree beside the repository)
# INVENTREE_VENV_ROOT where the cached venvs live (default: target/inventree-venv)
# INVENTREE_CACHE     where migrated template databases and the web UI build live
#                     (default: target/inventree-cache)
# TESSERA_INVENTREE_BROWSER=1  also the real-browser test in InvenTree's web UI: installs
#                     Debian's chromium if missing, builds the web UI from the npm registry
#                     (once per frontend source, ~4 min) and playwright-core from npm
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$SECONDS
say() { printf '\n=== inventree: %s (%ss) ===\n' "$*" "$((SECONDS - START))"; }

SRC=${INVENTREE_SRC:-$ROOT/../shared/inventree}
[ -f "$SRC/src/backend/requirements.txt" ] || SRC=/work/shared/inventree
REQ=$SRC/src/backend/requirements.txt
[ -f "$REQ" ] || { echo "InvenTree's source is not found (set INVENTREE_SRC)" >&2; exit 1; }
export INVENTREE_SRC=$SRC
PYTHON=${PYTHON:-python3}

say "system packages"
# redis-server: the suite starts one as InvenTree's cache.
bash "$ROOT/.ci/need-commands" redis-server
command -v redis-server

# The venv is keyed by the requirements and the interpreter; built in a temporary folder and
# renamed when complete (so an interrupted build is never reused). Everything below calls it
# as `$VENV/bin/python -m ...`: scripts' shebangs name the temporary folder.
KEY=$({ cat "$REQ"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
VENV_ROOT=${INVENTREE_VENV_ROOT:-$ROOT/target/inventree-venv}
VENV=$VENV_ROOT/$KEY
PY=$VENV/bin/python
if [ -x "$PY" ]; then
  say "InvenTree venv (cached: $VENV)"
else
  say "InvenTree venv (building $VENV from the pinned requirements)"
  mkdir -p "$VENV_ROOT"
  TMP=$VENV.tmp.$$
  rm -rf "$TMP"
  "$PYTHON" -m venv "$TMP"
  "$TMP/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$TMP/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$REQ"
  mv "$TMP" "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check --quiet)
"${PIP[@]}" install pytest ruff mypy types-requests "django-stubs>=5.2,<5.3" maturin

say "pip install ./python into InvenTree's venv (maturin builds the compiled backend)"
"${PIP[@]}" install --force-reinstall --no-deps ./python
"$PY" -c 'import tessera, sys; print(tessera.BACKEND, tessera.__file__); sys.exit(tessera.BACKEND != "native")'

say "the tessera CLI (cross-implementation tests)"
cargo build --quiet -p tessera-client --bin tessera
export TESSERA_CLI="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tessera"

if [ "${TESSERA_INVENTREE_BROWSER:-}" = 1 ]; then
  say "real browser: chromium, node, the web UI build, playwright-core"
  bash "$ROOT/.ci/need-commands" chromium node:nodejs npm
  export CHROMIUM=${CHROMIUM:-$(command -v chromium)}
  INVENTREE_WEB_BUILD=$(bash "$ROOT/python/tests_inventree/build_frontend.sh" | tail -n 1)
  export INVENTREE_WEB_BUILD
  export INVENTREE_BROWSER_TOOLS=${INVENTREE_CACHE:-$ROOT/target/inventree-cache}/browser-tools
  mkdir -p "$INVENTREE_BROWSER_TOOLS"
  [ -d "$INVENTREE_BROWSER_TOOLS/node_modules/playwright-core" ] ||
    npm install --silent --no-audit --no-fund --prefix "$INVENTREE_BROWSER_TOOLS" playwright-core@1
fi

cd "$ROOT/python"
INVENTREE_PART=(tests_inventree plugins/tessera-stock-tools/tessera_stock_tools
  plugins/naive-panel/naive_panel tessera/inventree.py)
say "ruff check and format --check (the InvenTree part)"
"$PY" -m ruff check "${INVENTREE_PART[@]}"
"$PY" -m ruff format --check "${INVENTREE_PART[@]}"
say "mypy (the InvenTree part)"
"$PY" -m mypy --config-file tests_inventree/mypy.ini "${INVENTREE_PART[@]}"

say "the end-to-end suite (InvenTree, 4 gunicorn workers, Redis)"
# From the suite's folder, so that `tessera` is the installed package, not python/tessera.
cd "$ROOT/python/tests_inventree"
rc=0
"$PY" -m pytest -p no:cacheprovider -q -s -ra . || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || { echo "the InvenTree suite failed (exit $rc)" >&2; exit "$rc"; }
say "InvenTree CI passed"
