#!/usr/bin/env bash
# run.sh BUILD_DIR [SHARED_DEFAULT] - CTest's test_python: installs the Python package the way
# users do (/usr/bin/python3 -m pip install --no-build-isolation --target DIR, from a copy of
# python/ so the source tree gets no build outputs), then runs python/tests with pytest against
# BUILD_DIR's libedgevision.so.0 and CLI.
# Debian's /usr/bin/python3 on purpose: its python3-numpy and python3-pytest are what
# scripts/install-deps.sh installs (a pyenv python3 first on PATH would lack them). Without them
# the test says so and is reported as skipped (exit 77).
# Extend: new test files in python/tests/ are collected by pytest; nothing to add here.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
PY=/usr/bin/python3
export EDGEVISION_SHARED="${EDGEVISION_SHARED:-${2:-$SRC/../../shared}}"
if [ ! -x "$PY" ]; then
  echo "SKIP test_python: $PY is absent (Debian's python3; see scripts/install-deps.sh)"; exit 77
fi
if ! "$PY" -c "import numpy, pytest" 2>/dev/null; then
  echo "SKIP test_python: $PY lacks numpy or pytest (apt-get install python3-numpy python3-pytest)"
  exit 77
fi
if ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "SKIP test_python: $PY lacks pip (apt-get install python3-pip python3-setuptools)"; exit 77
fi
WORK="$BUILD/test_python"
rm -rf "$WORK"
mkdir -p "$WORK/src"
cp -r "$SRC/pyproject.toml" "$SRC/setup.py" "$SRC/edgevision" "$WORK/src/"
rm -rf "$WORK/src/edgevision/__pycache__" "$WORK/src/edgevision/_install.py" \
       "$WORK/src/edgevision/"libedgevision.so*
export EDGEVISION_LIBRARY="$BUILD/libedgevision.so.0"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q --no-index \
  --no-build-isolation --target "$WORK/site" "$WORK/src" >"$WORK/pip.log" 2>&1 ||
  { cat "$WORK/pip.log"; echo "test_python: FAIL: pip install"; exit 1; }
export PYTHONPATH="$WORK/site"
export EV_CLI="${EV_CLI:-$BUILD/edgevision}"
cd "$WORK"
exec "$PY" -m pytest -q -p no:cacheprovider "$SRC/tests"
