#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one in turn. CI runs every
# target briefly (SECS=6: about a minute in all); a campaign runs them for long:
#   scripts/fuzz.sh                         every target for SECS seconds (default 20)
#   RUNS=10000000 scripts/fuzz.sh tflite    until 10^7 executions (or SECS, when also set)
#   CORPUS_DIR=out/fuzz/corpus ...          keep the corpus between runs (default: a temp folder)
#   JOBS=2 ...                              run that many targets at once
#   MAX_LEN=3000000 ...                     mutate whole real models (slow: ~100 executions/s)
# Seed corpora: small generated ones (fuzz/make_seeds.c: TFLite models, tiny videos and images;
# test_tf_graphdef writes its GraphDefs), the real files in $EDGEVISION_SHARED (never copied
# into the repository) and the regression inputs. Crashes are written to out/fuzz/<target>/;
# minimize one with `build-fuzz/fuzz_<target> -minimize_crash=1 CRASH`, add it to
# fuzz/regressions/<target>/ and tests/test_fuzz_regressions replays it forever.
# One line per target goes to out/fuzz/summary.txt: target, executions, seconds, crashes.
# Exits 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
RUNS="${RUNS:-}"
SECS="${SECS:-}"
[ -n "$RUNS" ] || SECS="${SECS:-20}"
JOBS="${JOBS:-1}"
# Inputs, seeds too, are cut to MAX_LEN bytes (default 64 KiB): mutating the megabyte real models
# and videos gives ~100 executions a second (the test suite loads them whole).
MAX_LEN="${MAX_LEN:-65536}"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Release -DEV_FUZZ=ON -DEV_WERROR=OFF \
  -DEV_WITH_CUDA=OFF -DEV_BUILD_TESTS=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz test_tf_graphdef >/dev/null

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
CORPUS="${CORPUS_DIR:-$TMP/corpus}"
mkdir -p out/fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls fuzz/fuzz_*.c | sed 's#fuzz/fuzz_\(.*\)\.c#\1#'))

seed() { # target: fills $CORPUS/target (idempotent: a persistent corpus only gains files)
  local t="$1" d="$CORPUS/$1"
  mkdir -p "$d" "out/fuzz/$t"
  cp fuzz/regressions/"$t"/* "$d/" 2>/dev/null || true
  case "$t" in
    tflite) ./build-fuzz/make_seeds tflite "$d"
            cp "$SHARED"/models/mobilenet/mobilenet_v1_0.5_160_quant.tflite "$d/" 2>/dev/null || true ;;
    image) ./build-fuzz/make_seeds image "$d"
           cp "$SHARED"/data/images/image2.jpeg "$SHARED"/data/coco/*.jpg "$d/" 2>/dev/null || true ;;
    graphdef) EV_WRITE_SEEDS="$d" EDGEVISION_SHARED="$TMP/none" ./build-fuzz/test_tf_graphdef >/dev/null 2>&1 || true
              cp "$SHARED"/models/posenet/*.pb "$d/" 2>/dev/null || true ;;
    onnx) for m in /usr/share/libonnx-testdata/data/node/test_{conv_with_strides_padding,maxpool_2d_pads,gemm_default_vector_bias,resize_upsample_scales_linear,qlinearconv,softmax_axis_1,reshape_reordered_all_dims,concat_2d_axis_0,convtranspose_pads,maxpool_2d_dilations,maxpool_with_argmax_2d_precomputed_strides,resize_tf_crop_and_resize}/model.onnx; do
            [ -f "$m" ] && cp "$m" "$d/$(basename "$(dirname "$m")").onnx"
          done
          cp fuzz/regressions/onnx/* "$d/" 2>/dev/null || true ;;
    coco_json) cp "$SHARED"/data/coco/*.json "$d/" 2>/dev/null || true ;;
    video) ./build-fuzz/make_seeds video "$d"
           cp "$SHARED"/data/video/*.mp4 "$d/" 2>/dev/null || true ;;
  esac
}

artifacts() { # target: how many crash/oom/timeout/leak inputs its folder holds
  ls "out/fuzz/$1" | grep -cE '^(crash|oom|timeout|leak|slow-unit)-' || true
}

run_one() { # target
  local t="$1" limit=()
  [ -n "$RUNS" ] && limit+=(-runs="$RUNS")
  [ -n "$SECS" ] && limit+=(-max_total_time="$SECS")
  local start end log="out/fuzz/$t/last.log"
  local before
  before=$(artifacts "$t")
  start=$(date +%s)
  ./build-fuzz/fuzz_"$t" "${limit[@]}" -max_len="$MAX_LEN" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="out/fuzz/$t/" "$CORPUS/$t" >"$log" 2>&1 || true
  end=$(date +%s)
  local execs after
  execs=$(sed -n "s/.*number_of_executed_units: *//p" "$log")
  after=$(artifacts "$t")
  local found=$((after - before))
  grep -q "stat::number_of_executed_units" "$log" || found=$((found > 0 ? found : 1))
  printf '%-13s %12s execs %6ss  crashes %d\n' "$t" "${execs:-?}" "$((end - start))" "$found" |
    tee -a out/fuzz/summary.txt
  if [ "$found" -ne 0 ]; then
    grep -E "ERROR|SUMMARY|fuzz:" "$log" | head -5
    return 1
  fi
}

for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t'" >&2; exit 2; }
  seed "$t"
done
echo "# $(date -u +%FT%TZ) RUNS=${RUNS:--} SECS=${SECS:--}" >>out/fuzz/summary.txt
fail=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$JOBS" ]; then
    wait "${pids[0]}" || fail=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit "$fail"
