#!/usr/bin/env bash
# CI of the Python package `tessera` (python/): on a fresh machine (CPython >= 3.9 with pip,
# the Rust toolchain, package registries only) it makes a venv, installs the package from
# source (`pip install ./python`: maturin builds the compiled backend), the test and lint
# tools and Redis, then runs ruff, mypy and pytest (both backends, Django with a real Redis,
# the `tessera` CLI built with cargo for the cross-implementation tests).
#
#   bash python/ci.sh            # from anywhere; exits non-zero on any failure
#
# TESSERA_PY_VENV chooses the venv folder (default: target/python-ci-venv, made afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${TESSERA_PY_VENV:-$ROOT/target/python-ci-venv}
PYTHON=${PYTHON:-python3}
START=$SECONDS

say() { printf '\n=== python: %s (%ss) ===\n' "$*" "$((SECONDS - START))"; }

say "system packages"
# redis-server: the Django single-use tests start one.
bash "$ROOT/.ci/need-commands" redis-server
command -v redis-server

say "venv and tools"
"$PYTHON" -m venv --clear "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --quiet)
"${PIP[@]}" install --upgrade pip
"${PIP[@]}" install maturin pytest ruff mypy django django-stubs redis pyjwt cryptography gunicorn

say "pip install ./python (maturin builds the compiled backend)"
"${PIP[@]}" install ./python
"$VENV/bin/python" -c 'import tessera, sys; print(tessera.BACKEND, tessera.__file__); sys.exit(tessera.BACKEND != "native")'

say "maturin build --release: one abi3 wheel for CPython >= 3.9"
WHEELS=$(mktemp -d)
(cd python && "$VENV/bin/maturin" build --release --quiet --out "$WHEELS")
ls "$WHEELS"/tessera-*-cp39-abi3-*.whl

say "the tessera CLI (cross-implementation tests)"
cargo build --quiet -p tessera-client --bin tessera
export TESSERA_CLI="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tessera"

cd "$ROOT/python"
say "ruff check"
"$VENV/bin/ruff" check .
say "ruff format --check"
"$VENV/bin/ruff" format --check .
say "mypy (package, stubs, tests)"
"$VENV/bin/mypy"
say "stubtest: the compiled module's stub against the installed module"
(cd "$(mktemp -d)" && "$VENV/bin/python" -m mypy.stubtest tessera._native)

# pytest's own exit codes: 0 all passed, 1 failures, 5 no test collected (a failure here too).
run_pytest() {
  local rc=0
  "${PYTEST:-$VENV/bin/pytest}" -p no:cacheprovider "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: $*" >&2
    exit 1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "pytest failed (exit $rc): $*" >&2
    exit "$rc"
  fi
}

say "pytest (installed package; both backends)"
# The installed package, not the source folder: pytest is run as a script (no cwd on sys.path).
TESSERA_REQUIRE_NATIVE=1 run_pytest -q tests
say "pytest again with the pure backend forced (TESSERA_BACKEND=pure)"
TESSERA_BACKEND=pure run_pytest -q tests -k "not differential and not vector"

say "the abi3 wheel on the oldest and newest CPython found (3.9, 3.13), when the machine has them"
for version in 3.9 3.13; do
  other=""
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python "$(command -v "python$version" || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -V >/dev/null 2>&1; then
      other=$candidate
      break
    fi
  done
  if [ -z "$other" ]; then
    echo "python$version not found: the wheel is tested on $("$VENV/bin/python" -V) only"
    continue
  fi
  OTHER_VENV=$(mktemp -d)
  "$other" -m venv "$OTHER_VENV"
  "$OTHER_VENV/bin/python" -m pip --disable-pip-version-check --quiet install "$WHEELS"/tessera-*-cp39-abi3-*.whl pytest cryptography
  # From the venv's folder: in python/ the source package (without the compiled module) would
  # be imported instead of the installed one.
  (cd "$OTHER_VENV" && "$OTHER_VENV/bin/python" -c 'import sys, tessera; print(sys.version.split()[0], tessera.BACKEND); sys.exit(tessera.BACKEND != "native")')
  TESSERA_REQUIRE_NATIVE=1 PYTEST="$OTHER_VENV/bin/pytest" run_pytest -q tests/test_vectors.py tests/test_api.py tests/test_derive.py
done

say "benchmark script, one short round (the README's numbers come from a full run)"
"$VENV/bin/python" bench/verify_bench.py --rounds 1 --seconds 0.05

say "python CI passed"
