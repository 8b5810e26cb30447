#!/usr/bin/env bash
# setup.sh - installs and builds the ARM speed proxy (benchmark tooling, not a test): what
# bench/arm/run.sh needs to count instructions and estimate cycles of ours and of the two peers
# under qemu, per Raspberry Pi core model (docs/performance.md, "ARM without a board").
# Idempotent: each step checks first and does nothing when its product is there (--force redoes
# the builds). Products go to bench/arm/work/ (gitignored) and build-aarch64/, build-armv7/.
#
#   1. Debian packages: qemu-user (the dynamic qemu: it loads TCG plugins; qemu-user-static does
#      not), llvm-19 (llvm-mc, llvm-mca with Neoverse-N1 and Cortex-A72 models; an older LLVM
#      is used when 19 is not offered, if its llvm-mca knows both CPUs), the cross compilers,
#      dpkg-dev (dpkg-source), python3; the cross libraries via scripts/install-cross-deps.sh.
#   2. Debian's qemu source package, for include/qemu/qemu-plugin.h, through a private apt state
#      (bench/arm/work/apt) whose deb-src entries are derived from this machine's own apt sources:
#      the host's apt configuration is not changed.
#   3. bench/arm/work/libbbcount.so: the counting plugin (bench/arm/bbcount.c).
#   4. The npm peers (bench/peers/setup.sh: their arm64 libraries) and the two peer drivers,
#      cross-built: bench/arm/work/peer_tflite_arm, bench/arm/work/peer_ort_arm.
#   5. Ours: posenet_latency cross-built in build-aarch64 and build-armv7.
#
# Usage: bash bench/arm/setup.sh [--force] [--no-armv7]
# Extend: another runtime is one more driver built in step 4 and one more entry in run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
W="$ROOT/bench/arm/work"
FORCE=0 ARMV7=1
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --no-armv7) ARMV7=0 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$a' (usage: bash bench/arm/setup.sh [--force] [--no-armv7])" >&2; exit 2 ;;
  esac
done
die() { echo "bench/arm/setup.sh: error: $*" >&2; exit 1; }
say() { echo "== arm proxy: $*"; }
mkdir -p "$W"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"

# ---- 1. Debian packages --------------------------------------------------------------------
need=()
for p in qemu-user gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf dpkg-dev python3 cmake; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# The newest LLVM whose llvm-mca has both core models.
llvm_ok() {
  [ -x "/usr/lib/llvm-$1/bin/llvm-mca" ] || return 1
  local cpus; cpus="$("/usr/lib/llvm-$1/bin/llvm-mca" -mtriple=aarch64 -mcpu=help 2>&1 || true)"
  [[ "$cpus" == *neoverse-n1* && "$cpus" == *cortex-a72* ]]
}
LLVM_VER=""
for v in 19 18 17 16 15 14; do
  if llvm_ok "$v"; then LLVM_VER="$v"; break; fi
done
if [ -z "$LLVM_VER" ]; then
  for v in 19 18 17 16 15 14; do
    pol="$(apt-cache policy "llvm-$v" 2>/dev/null || true)"
    if [[ "$pol" =~ Candidate:\ [0-9] ]]; then
      need+=("llvm-$v"); LLVM_VER="$v"; break
    fi
  done
  [ -n "$LLVM_VER" ] || die "no llvm-14..19 package is offered by apt (run apt-get update; Debian 12 has llvm-19)"
  [ "$LLVM_VER" = 19 ] || say "llvm-19 is not offered here; using llvm-$LLVM_VER"
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" ||
    die "apt-get install ${need[*]} failed: is the Debian archive reachable (apt-get update), and are we root or password-less sudo?"
fi
llvm_ok "$LLVM_VER" || die "llvm-$LLVM_VER's llvm-mca lacks the neoverse-n1 or cortex-a72 model"
echo "/usr/lib/llvm-$LLVM_VER/bin" > "$W/llvm-bin"
say "llvm-$LLVM_VER (llvm-mc, llvm-mca), $(qemu-aarch64 --version | head -1)"
bash scripts/install-cross-deps.sh arm64 $([ "$ARMV7" = 1 ] && echo armhf)

# ---- 2. the plugin header from Debian's qemu source package --------------------------------
QSRC="$W/apt/src/qemu"
if [ ! -f "$QSRC/include/qemu/qemu-plugin.h" ]; then
  A="$W/apt"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.list.d" "$A/src"
  : > "$A/sources.list.d/src.sources"
  # deb-src twins of this machine's own deb entries (deb822 .sources and one-line .list files).
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*$/Types: deb-src/' "$f" >> "$A/sources.list.d/src.sources" && echo >> "$A/sources.list.d/src.sources"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -E '^deb ' "$f" | sed 's/^deb /deb-src /' >> "$A/sources.list.d/src.list" || true
  done
  [ -s "$A/sources.list.d/src.sources" ] || [ -s "$A/sources.list.d/src.list" ] ||
    die "no apt source found in /etc/apt to derive a deb-src entry from"
  APT=(apt-get -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o "Dir::Etc::SourceList=/dev/null"
       -o "Dir::Etc::SourceParts=$A/sources.list.d" -o "Dir::State::status=/var/lib/dpkg/status")
  say "fetching Debian's qemu source (private apt state in $A)"
  "${APT[@]}" update >/dev/null || die "apt-get update of the deb-src indices failed: is the Debian archive reachable?"
  ver="$(dpkg-query -W -f='${source:Version}' qemu-user)"
  (cd "$A/src" && "${APT[@]}" source --download-only "qemu=$ver" >/dev/null 2>&1) ||
    (cd "$A/src" && "${APT[@]}" source --download-only qemu >/dev/null) ||
    die "apt-get source qemu failed (deb-src for the installed qemu-user $ver)"
  rm -rf "$QSRC"
  (cd "$A/src" && dpkg-source -x qemu_*.dsc qemu >/dev/null) || die "dpkg-source -x of the qemu source failed"
  rm -f "$A/src/"qemu_*.orig.tar.* # 20+ MB, no longer needed
fi

# ---- 3. the plugin ---------------------------------------------------------------------------
if [ "$FORCE" = 1 ] || [ ! -f "$W/libbbcount.so" ] || [ bench/arm/bbcount.c -nt "$W/libbbcount.so" ]; then
  say "building the counting plugin"
  gcc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -I"$QSRC/include/qemu" \
      -o "$W/libbbcount.so" bench/arm/bbcount.c -lpthread
fi

# ---- 4. peers: npm packages (their arm64 libraries) and the C drivers ------------------------
bash bench/peers/setup.sh || die "bench/peers/setup.sh failed (the peers' arm64 libraries come from the npm packages)"
NM="$ROOT/bench/peers/node_modules"
TFL="$NM/tfjs-tflite-node/cc_deps"
ORT="$NM/onnxruntime-node/bin/napi-v6/linux/arm64"
[ -f "$TFL/linux_arm64/libtensorflowlite_c.so" ] || die "$TFL/linux_arm64/libtensorflowlite_c.so missing"
[ -f "$ORT/libonnxruntime.so.1" ] || die "$ORT/libonnxruntime.so.1 missing"
CC=aarch64-linux-gnu-gcc
CF=(-std=c11 -O2 -Wall -Wextra -Werror)
if [ "$FORCE" = 1 ] || [ ! -f "$W/peer_tflite_arm" ] || [ bench/arm/peer_tflite_arm.c -nt "$W/peer_tflite_arm" ]; then
  say "building peer_tflite_arm"
  $CC "${CF[@]}" -I"$TFL/include" -o "$W/peer_tflite_arm" bench/arm/peer_tflite_arm.c \
      -L"$TFL/linux_arm64" -ltensorflowlite_c -Wl,-rpath,"$TFL/linux_arm64"
fi
if [ "$FORCE" = 1 ] || [ ! -f "$W/peer_ort_arm" ] || [ bench/arm/peer_ort_arm.c -nt "$W/peer_ort_arm" ]; then
  say "building peer_ort_arm"
  $CC "${CF[@]}" -o "$W/peer_ort_arm" bench/arm/peer_ort_arm.c -L"$ORT" -l:libonnxruntime.so.1 \
      -Wl,-rpath,"$ORT"
fi

# ---- 5. ours ----------------------------------------------------------------------------------
targets=(aarch64)
[ "$ARMV7" = 1 ] && targets+=(armv7)
for t in "${targets[@]}"; do
  b="build-$t"
  if [ ! -f "$b/CMakeCache.txt" ]; then
    say "configuring $b"
    # armv7: -DEV_WERROR=OFF, since a 32-bit size_t warning in src/formats/onnx_reader.c
    # (FNV-1a's 64-bit seed) stops a -Werror build there; the benchmark needs only the binary.
    werror=ON
    [ "$t" = armv7 ] && werror=OFF
    cmake -S . -B "$b" -DCMAKE_TOOLCHAIN_FILE="cmake/toolchain-$t.cmake" -DCMAKE_BUILD_TYPE=Release \
          -DEV_WITH_HDF5=OFF -DEV_WITH_MATIO=OFF -DEV_WERROR=$werror >/dev/null
  fi
  say "building posenet_latency in $b"
  cmake --build "$b" -j"$(nproc)" --target posenet_latency >/dev/null ||
    die "building posenet_latency in $b failed (a -Werror warning? configure it with -DEV_WERROR=OFF)"
done
say "ready: bash bench/arm/run.sh"
