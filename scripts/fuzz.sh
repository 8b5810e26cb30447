#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECS seconds (default 20;
# CI runs this briefly, `SECS=3600 scripts/fuzz.sh` for long runs). Seed corpora are built in a
# temporary folder from the real files in $EDGEVISION_SHARED and the regression inputs; nothing
# from shared/ is copied into the repository. Crashes are written to out/fuzz/<target>/; minimize
# one with `build-fuzz/fuzz_<target> -minimize_crash=1 CRASH` and add it to
# fuzz/regressions/<target>/ so the test suite replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${SECS:-20}"
SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DEV_FUZZ=ON -DEV_WERROR=OFF -DEV_WITH_CUDA=OFF \
  -DEV_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz >/dev/null
CORPUS="$(mktemp -d)"
trap 'rm -rf "$CORPUS"' EXIT
mkdir -p out/fuzz
for t in $(ls fuzz/fuzz_*.c | sed 's#fuzz/fuzz_\(.*\)\.c#\1#'); do
  mkdir -p "$CORPUS/$t" "out/fuzz/$t"
  cp fuzz/regressions/"$t"/* "$CORPUS/$t/" 2>/dev/null || true
  case "$t" in
    tflite) ./build-fuzz/make_seeds "$CORPUS/$t"
            cp "$SHARED"/models/mobilenet/mobilenet_v1_0.5_160_quant.tflite "$CORPUS/$t/" 2>/dev/null || true ;;
    image) cp "$SHARED"/data/images/image2.jpeg "$SHARED"/data/coco/*.jpg "$CORPUS/$t/" 2>/dev/null || true ;;
    graphdef) cp "$SHARED"/models/posenet/*.pb "$CORPUS/$t/" 2>/dev/null || true ;;
    coco_json) cp "$SHARED"/data/coco/*.json "$CORPUS/$t/" 2>/dev/null || true ;;
    video) cp "$SHARED"/data/video/*.mp4 "$CORPUS/$t/" 2>/dev/null || true ;;
  esac
  maxlen=65536
  case "$t" in tflite|graphdef|video|keras_h5) maxlen=3000000 ;; esac
  echo "== fuzz_$t for ${SECS}s =="
  ./build-fuzz/fuzz_"$t" -max_total_time="$SECS" -max_len="$maxlen" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="out/fuzz/$t/" "$CORPUS/$t" 2>&1 |
    grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|==ERROR" || true
done
