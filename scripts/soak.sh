#!/usr/bin/env bash
# Soak test (a script, not a test): runs `edgevision bench` on the dance video in a loop for
# SECS seconds (default 3600) with the cpu backend, samples the process's resident memory every
# INTERVAL seconds (default 10) from /proc, and reports the growth between the first sample
# after warm-up and the last. Goal: under 1% growth over an hour. Prints one line per sample and
# a verdict; exits 1 when growth exceeds LIMIT_PCT (default 1).
#   SECS=3600 THREADS=2 scripts/soak.sh [MODEL] [VIDEO]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
MODEL="${1:-$SHARED/models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite}"
VIDEO="${2:-$SHARED/data/video/dance.mp4}"
SECS="${SECS:-3600}"
INTERVAL="${INTERVAL:-10}"
LIMIT_PCT="${LIMIT_PCT:-1}"
BIN="${BIN:-./build/edgevision}"
[ -x "$BIN" ] || { echo "soak: build first ($BIN missing)" >&2; exit 2; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$BIN" bench --model "$MODEL" --backend cpu --threads "${THREADS:-2}" --loop --warmup-runs 10 \
  --min-runs 10000000 --min-secs "$SECS" --max-secs "$SECS" --quiet --json "$OUT/soak.json" \
  "$VIDEO" >"$OUT/bench.txt" 2>&1 &
PID=$!
first=""
last=""
t=0
echo "time_s rss_kb"
while kill -0 "$PID" 2>/dev/null; do
  sleep "$INTERVAL"
  t=$((t + INTERVAL))
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status" 2>/dev/null || true)
  [ -n "$rss" ] || break
  echo "$t $rss"
  # the first sample after a minute (or after the first interval on short runs) is the base
  if [ -z "$first" ] && { [ "$t" -ge 60 ] || [ "$SECS" -lt 120 ]; }; then first="$rss"; fi
  last="$rss"
done
wait "$PID" || { echo "soak: bench failed:"; cat "$OUT/bench.txt"; exit 1; }
grep -E "FPS|inference " "$OUT/bench.txt" | head -3
if [ -z "$first" ] || [ -z "$last" ]; then echo "soak: too short to sample"; exit 1; fi
growth=$(awk -v a="$first" -v b="$last" 'BEGIN {printf "%.3f", (b - a) * 100.0 / a}')
echo "RSS after warm-up ${first} kB, at the end ${last} kB: growth ${growth}% (limit ${LIMIT_PCT}%)"
awk -v g="$growth" -v l="$LIMIT_PCT" 'BEGIN {exit (g > l) ? 1 : 0}'
