#!/usr/bin/env bash
# Second command of the README: build and run every test twice, in a Release build and in an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Tests whose data is absent from
# $EDGEVISION_SHARED (default ../shared) say so and are reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export EDGEVISION_SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
JOBS="$(nproc)"
bash scripts/install-deps.sh

echo "== Release build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")

echo "== ASan + UBSan build =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DEV_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure -j"$JOBS")
