#!/usr/bin/env bash
# run.sh - the ARM speed proxy, one command (benchmark, not a test): for each PoseNet size and
# each Raspberry Pi core model, runs ours and both peers under qemu-user with the counting plugin
# (bench/arm/bbcount.c), one thread, as two processes (warm-up + 1 run, warm-up + 2 runs), and
# prints the instructions and estimated cycles of ONE inference (the difference) and the ratios
# peer / ours (> 1: ours does less). Method and limits: docs/performance.md, "ARM without a board".
#
#   bash bench/arm/run.sh                          # 353x481, cores a76 a72 a55 a53, all runtimes
#   bash bench/arm/run.sh --sizes 353_481,481_641,721_1281 --cores a76,a72
#   bash bench/arm/run.sh --float                  # also ours on PoseNet 0.50 float (353x481)
#   bash bench/arm/run.sh --armv7                  # also ours as 32-bit armv7 (qemu-arm -cpu cortex-a7)
#
# Core models (qemu -cpu; llvm-mca -mcpu; our path; the /proc/cpuinfo shown to the runtimes):
#   a76  cortex-a76  neoverse-n1 (+dotprod,+rdm) dotprod RPi 5
#   a72  cortex-a72  cortex-a72              neon     RPi 4
#   a55  cortex-a76  (instructions only)     dotprod  (qemu 7.2 has no cortex-a55; the A76 has the
#                                                     same ISA features, the cpuinfo names the A55)
#   a53  cortex-a53  (instructions only)     neon     RPi 3 / Zero 2
# Every process runs in a private mount namespace (unshare -m, needs root) with a cpuinfo of the
# modelled core bind-mounted over /proc/cpuinfo: ONNX Runtime aborts on the host's x86 one under
# qemu 7.2, and runtimes choose kernels by the CPU part named there.
# Dumps: bench/arm/work/out/SIZE/CORE_RUNTIME_r{1,2}.txt; the table also goes to
# bench/arm/work/out/table.txt. Setup (once): bash bench/arm/setup.sh (run here when missing).
# Extend: a core is one more line in core_info(); a runtime one more case in cmd_for().
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
W="$ROOT/bench/arm/work"
export EDGEVISION_SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
S="$EDGEVISION_SHARED/models/posenet"
SIZES=353_481 CORES=a76,a72,a55,a53 RUNTIMES=ours,tflite,ort FLOAT=0 ARMV7=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift ;;
    --cores) CORES="$2"; shift ;;
    --runtimes) RUNTIMES="$2"; shift ;;
    --float) FLOAT=1 ;;
    --armv7) ARMV7=1 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see bash bench/arm/run.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "bench/arm/run.sh: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (unshare -m and a bind mount over /proc/cpuinfo)"
if [ ! -f "$W/libbbcount.so" ] || [ ! -x "$W/peer_ort_arm" ] || [ ! -x "$W/peer_tflite_arm" ] ||
   [ ! -x build-aarch64/posenet_latency ] || { [ "$ARMV7" = 1 ] && [ ! -x build-armv7/posenet_latency ]; }; then
  bash bench/arm/setup.sh $([ "$ARMV7" = 1 ] || echo --no-armv7)
fi
LLVM_BIN="$(cat "$W/llvm-bin")"
export EV_LLVM_BIN="$LLVM_BIN"
[ -d "$S" ] || die "no models at $S (set EDGEVISION_SHARED)"

# core_info CORE -> "QEMU_CPU MCA_CPU MCA_ATTR EV_ISA PART VARIANT REVISION FEATURES..."
core_info() {
  case "$1" in
    a76) echo "cortex-a76 neoverse-n1 +dotprod,+rdm dotprod 0xd0b 0x4 1 fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
    a72) echo "cortex-a72 cortex-a72 - neon 0xd08 0x0 3 fp asimd evtstrm crc32 cpuid" ;;
    a55) echo "cortex-a76 - - dotprod 0xd05 0x2 0 fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
    a53) echo "cortex-a53 - - neon 0xd03 0x0 4 fp asimd evtstrm crc32 cpuid" ;;
    *) die "unknown core '$1' (a76 a72 a55 a53)" ;;
  esac
}
# A cpuinfo of the modelled core, one entry per host CPU (sysfs still counts the host's).
write_cpuinfo() { # CORE FILE
  read -r _ _ _ _ part var rev feats <<<"$(core_info "$1")"
  local n; n="$(nproc --all)"
  : > "$2"
  for ((i = 0; i < n; i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\nCPU revision\t: %s\n\n' \
      "$i" "$feats" "$var" "$part" "$rev" >> "$2"
  done
}
# cmd_for RUNTIME SIZE RUNS -> the guest command line (empty: not available)
cmd_for() {
  case "$1" in
    ours) echo "$ROOT/build-aarch64/posenet_latency $S/posenet_mobilenet_v1_075_$2_quant.tflite cpu $3 1" ;;
    ours32) echo "$ROOT/build-armv7/posenet_latency $S/posenet_mobilenet_v1_075_$2_quant.tflite cpu $3 1" ;;
    ours_f050) echo "$ROOT/build-aarch64/posenet_latency $S/posenet_mobilenet_v1_050_float.pb cpu $3 1 353x481" ;;
    tflite) echo "$W/peer_tflite_arm $S/posenet_mobilenet_v1_075_$2_quant.tflite $3 1" ;;
    ort) echo "$W/peer_ort_arm $S/onnx/posenet_mobilenet_v1_075_$2_quant_s8w.onnx $3 1" ;;
  esac
}
# count QEMU CORE RUNTIME SIZE ISA -> dumps r1, r2 (in the core's mount namespace)
count() {
  local qemu="$1" core="$2" rt="$3" size="$4" isa="$5" qcpu="$6" d="$W/out/$4"
  mkdir -p "$d"
  write_cpuinfo "$core" "$d/cpuinfo_$core"
  for r in 1 2; do
    local c; c="$(cmd_for "$rt" "$size" "$r")"
    unshare -m sh -c 'mount --bind "$1" /proc/cpuinfo && shift && exec "$@"' sh "$d/cpuinfo_$core" \
      env EV_ISA="$isa" "$qemu" -cpu "$qcpu" -plugin "$W/libbbcount.so,out=$d/${core}_${rt}_r$r.txt" $c \
      > "$d/${core}_${rt}_r$r.log" 2>&1 || { echo "  $rt on $core failed: $(tail -2 "$d/${core}_${rt}_r$r.log")" >&2; return 1; }
  done
}
estimate() { # SIZE CORE RUNTIME MCA_CPU MCA_ATTR [ARCH]
  local d="$W/out/$1" args=()
  [ "$4" != - ] && args+=(--mcpu "$4" --cache "$W/mca-cache.json")
  [ "$5" != - ] && args+=(--mattr "$5")
  python3 bench/arm/estimate.py --arch aarch64 "${args[@]}" "$d/${2}_${3}_r1.txt" "$d/${2}_${3}_r2.txt"
}
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

TABLE="$W/out/table.txt"
mkdir -p "$W/out"
{
  echo "# ARM proxy: $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(qemu-aarch64 --version | head -1), llvm $("$LLVM_BIN/llvm-mca" --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p'), 1 thread, one inference = (warm-up + 2 runs) - (warm-up + 1 run)"
  echo "# ratio = peer / ours (> 1: ours does less); Minsn = 1e6 instructions, Mcyc = 1e6 estimated cycles (llvm-mca, no caches or branch misses)"
  printf '%-9s %-4s %-6s %-8s %10s %10s %6s %9s %9s %9s %9s\n' size core runtime path Minsn Mcyc IPC cover insn/ours cyc/ours blocks
} | tee "$TABLE"
IFS=, read -ra sizes <<<"$SIZES"
IFS=, read -ra cores <<<"$CORES"
IFS=, read -ra rts <<<"$RUNTIMES"
row() { # SIZE CORE RUNTIME PATH RESULT OURS_INSN OURS_CYC
  local insn cyc ipc cov blocks ri="-" rc="-"
  insn="$(field insns "$5")" cyc="$(field est_cycles "$5")" ipc="$(field ipc "$5")"
  cov="$(field coverage "$5")" blocks="$(field blocks "$5")"
  [ -n "$6" ] && ri="$(python3 -c "print(f'{$insn/$6:.2f}')")"
  [ -n "$cyc" ] && [ -n "$7" ] && rc="$(python3 -c "print(f'{$cyc/$7:.2f}')")"
  printf '%-9s %-4s %-6s %-8s %10.1f %10s %6s %9s %9s %9s %9s\n' "$1" "$2" "$3" "$4" \
    "$(python3 -c "print($insn/1e6)")" "$([ -n "$cyc" ] && python3 -c "print(f'{$cyc/1e6:.1f}')" || echo -)" \
    "${ipc:--}" "${cov:--}" "$ri" "$rc" "${blocks:--}" | tee -a "$TABLE"
}
for size in "${sizes[@]}"; do
  size="${size/x/_}"
  for core in "${cores[@]}"; do
    read -r qcpu mcpu mattr isa _ <<<"$(core_info "$core")"
    ours_i="" ours_c=""
    for rt in ours "${rts[@]}"; do
      [ "$rt" = ours ] && [ -n "$ours_i" ] && continue # ours runs first, once: the ratios need it
      path="$rt"; [ "$rt" = ours ] && path="$isa"
      count qemu-aarch64 "$core" "$rt" "$size" "$isa" "$qcpu" || continue
      res="$(estimate "$size" "$core" "$rt" "$mcpu" "$mattr")"
      if [ "$rt" = ours ]; then
        ours_i="$(field insns "$res")" ours_c="$(field est_cycles "$res")"
        row "${size/_/x}" "$core" ours "$path" "$res" "" ""
      else
        row "${size/_/x}" "$core" "$rt" "$path" "$res" "$ours_i" "$ours_c"
      fi
    done
  done
done
if [ "$FLOAT" = 1 ]; then
  for core in "${cores[@]}"; do
    read -r qcpu mcpu mattr isa _ <<<"$(core_info "$core")"
    count qemu-aarch64 "$core" ours_f050 353_481 "$isa" "$qcpu" &&
      row "f050" "$core" ours "$isa" "$(estimate 353_481 "$core" ours_f050 "$mcpu" "$mattr")" "" ""
  done
fi
if [ "$ARMV7" = 1 ]; then
  # 32-bit (Raspberry Pi OS armhf): ours only (no npm peer exists for armhf), instruction counts
  # only, under qemu-arm -cpu cortex-a7 (qemu-arm models no A72/A53 in 32-bit state; the code run
  # depends only on the NEON path): compare with ours' neon rows on aarch64 above.
  for size in "${sizes[@]}"; do
    size="${size/x/_}"
    count qemu-arm a72 ours32 "$size" neon cortex-a7 &&
      row "${size/_/x}" armv7 ours neon "$(estimate "$size" a72 ours32 - -)" "" ""
  done
fi
echo "table: $TABLE"
