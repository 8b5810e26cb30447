#!/usr/bin/env bash
# calibrate_x86.sh - checks the ARM proxy's method where it can be checked against a clock
# (benchmark tooling, not a test): the same counting (qemu-x86_64 -cpu max + bench/arm/bbcount.c,
# one inference = warm-up + 2 runs minus warm-up + 1 run, one thread) and cycle model (llvm-mca,
# an x86 model: --mcpu, default sapphirerapids) on the x86 build, against bench_backbone's measured
# medians on this machine. qemu 7.2's TCG has AVX2 but no AVX-512, so ours runs EV_ISA=avx2 on
# both sides, and the scalar path is the second point of ours; TFLite 2.9 runs its built-in
# kernels; ONNX Runtime is left out (natively it takes its AVX-512 VNNI kernels, which qemu cannot
# run, so the two sides would not run the same code).
#
#   bash bench/arm/calibrate_x86.sh [--mcpu sapphirerapids] [--size 353_481]
# Needs: bench/arm/setup.sh done, the x86 build (cmake --build build --target posenet_latency
# bench_backbone), bench/peers/setup.sh. Prints predicted and measured ratios side by side.
# Extend: another path of ours is one more entry in PATHS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
W="$ROOT/bench/arm/work"
export EDGEVISION_SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
S="$EDGEVISION_SHARED/models/posenet"
MCPU=sapphirerapids SIZE=353_481
while [ $# -gt 0 ]; do
  case "$1" in
    --mcpu) MCPU="$2"; shift ;;
    --size) SIZE="${2/x/_}"; shift ;;
    *) echo "calibrate_x86.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "bench/arm/calibrate_x86.sh: error: $*" >&2; exit 1; }
[ -f "$W/libbbcount.so" ] || die "run bash bench/arm/setup.sh first"
[ -x build/posenet_latency ] && [ -x build/bench_backbone ] ||
  die "build the x86 benchmarks first: cmake --build build --target posenet_latency bench_backbone"
export EV_LLVM_BIN="$(cat "$W/llvm-bin")"
TFL="$ROOT/bench/peers/node_modules/tfjs-tflite-node/cc_deps"
[ -f "$TFL/linux_amd64/libtensorflowlite_c.so" ] || die "run bash bench/peers/setup.sh first"
# The TFLite driver is portable C: the same source, built for the host against the x86 library.
if [ ! -x "$W/peer_tflite_x86" ] || [ bench/arm/peer_tflite_arm.c -nt "$W/peer_tflite_x86" ]; then
  gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$TFL/include" -o "$W/peer_tflite_x86" \
      bench/arm/peer_tflite_arm.c -L"$TFL/linux_amd64" -ltensorflowlite_c -Wl,-rpath,"$TFL/linux_amd64"
fi
d="$W/out/x86_$SIZE"
mkdir -p "$d"
M="$S/posenet_mobilenet_v1_075_${SIZE}_quant.tflite"
declare -A CMD=(
  [avx2]="build/posenet_latency $M cpu RUNS 1"
  [scalar]="build/posenet_latency $M cpu RUNS 1"
  [tflite]="$W/peer_tflite_x86 $M RUNS 1"
)
declare -A ISA=([avx2]=avx2 [scalar]=scalar [tflite]=avx2)
declare -A EST
for k in avx2 scalar tflite; do
  for r in 1 2; do
    c="${CMD[$k]/RUNS/$r}"
    EV_ISA="${ISA[$k]}" qemu-x86_64 -cpu max -plugin "$W/libbbcount.so,out=$d/${k}_r$r.txt" $c > "$d/${k}_r$r.log" 2>&1 ||
      die "$k under qemu-x86_64 failed: $(tail -2 "$d/${k}_r$r.log")"
  done
  EST[$k]="$(python3 bench/arm/estimate.py --arch x86_64 --mcpu "$MCPU" --cache "$W/mca-cache.json" \
             "$d/${k}_r1.txt" "$d/${k}_r2.txt")"
  echo "predicted $k: ${EST[$k]}"
done
# Measured: bench_backbone's medians, 1 thread, same machine (ours avx2 and scalar, TFLite).
# bench_backbone names our rows runtime=cpu/PATH (one per --isa path): "cpu" below.
meas() { sed -n 's/.*runtime=\([a-z]*\)[^ ]* .*median_ms=\([0-9.]*\).*/\1 \2/p'; }
ms_avx2="$(build/bench_backbone --sizes "$SIZE" --backends cpu --isa avx2 --threads 1 --peers tflite \
           --min-runs 20 --min-secs 2 | tee "$d/measured_avx2.txt" | meas)"
ms_scalar="$(build/bench_backbone --sizes "$SIZE" --backends cpu --isa scalar --threads 1 --peers none \
             --min-runs 5 --min-secs 2 | tee "$d/measured_scalar.txt" | meas)"
[ -n "$ms_avx2" ] && [ -n "$ms_scalar" ] ||
  die "no median in bench_backbone's output ($d/measured_avx2.txt, measured_scalar.txt)"
f() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
m() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }
python3 - "$(f est_cycles "${EST[avx2]}")" "$(f est_cycles "${EST[scalar]}")" "$(f est_cycles "${EST[tflite]}")" \
  "$(f insns "${EST[avx2]}")" "$(f insns "${EST[scalar]}")" "$(f insns "${EST[tflite]}")" \
  "$(m cpu "$ms_avx2")" "$(m cpu "$ms_scalar")" "$(m tflite "$ms_avx2")" "$MCPU" <<'EOF'
import sys
ca, cs, ct, ia, is_, it, ma, ms, mt, mcpu = sys.argv[1:]
ca, cs, ct, ia, is_, it, ma, ms, mt = map(float, (ca, cs, ct, ia, is_, it, ma, ms, mt))
print(f"# x86 calibration, llvm-mca -mcpu={mcpu}; ratio = other / ours avx2")
print(f"{'pair':<22}{'insn ratio':>11}{'cycle ratio':>12}{'measured':>10}")
print(f"{'tflite / ours avx2':<22}{it/ia:>11.2f}{ct/ca:>12.2f}{mt/ma:>10.2f}")
print(f"{'ours scalar / avx2':<22}{is_/ia:>11.2f}{cs/ca:>12.2f}{ms/ma:>10.2f}")
print(f"measured ms: ours avx2 {ma}, ours scalar {ms}, tflite {mt}; est. cycles/ms (GHz implied): "
      f"avx2 {ca/ma/1e6:.2f}, scalar {cs/ms/1e6:.2f}, tflite {ct/mt/1e6:.2f}")
EOF
