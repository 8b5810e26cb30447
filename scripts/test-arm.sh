#!/usr/bin/env bash
# ARM test command: cross-builds edgevision for aarch64 (build-aarch64) and 32-bit armv7
# hard-float (build-armv7) and runs the test suite under qemu-user, once per emulated CPU model,
# so every EV_ISA path the model offers is exercised (test_cpu_backend walks them all):
#   aarch64  cortex-a76 (NEON + dot product: dotprod, neon, scalar), whole suite
#            cortex-a53 (NEON only: neon, scalar), the cpu backend's tests
#   armv7    cortex-a7  (NEON: neon, scalar), whole suite
#
#   bash scripts/test-arm.sh              # both targets
#   bash scripts/test-arm.sh aarch64      # one
#
# Emulator: qemu-<arch>-static with QEMU_CPU per run. Multiarch builds run with the target's
# own loader and libc from libc6:<arch> (/lib/ld-linux-*.so), not -L /usr/<triplet>: the cross
# toolchain's libc there is another build of glibc, and mixing the two hangs in pthread_create.
# Sysroot builds run entirely from the sysroot (-L <sysroot>).
#
# Each target's library is also compiled unoptimized (build-<target>-O0, no tests run there).
# Dependencies: scripts/install-cross-deps.sh (multiarch packages, or a private sysroot in
# /opt/edgevision-cross when multiarch cannot install them; see there). Tests run with
# EV_TEST_EMULATED=1: the few that are too slow under emulation use a smaller workload and say
# so; cpu == ref bit for bit on the three Coral PoseNet models always runs. Emulated timings are
# not performance figures. CI runs this after scripts/test.sh (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export EDGEVISION_SHARED="${EDGEVISION_SHARED:-$(cd .. && pwd)/shared}"
JOBS="$(nproc)"
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(aarch64 armv7)
SYSROOTS="${EV_CROSS_SYSROOTS:-/opt/edgevision-cross}"

debarchs=()
for t in "${TARGETS[@]}"; do
  case "$t" in
    aarch64) debarchs+=(arm64) ;;
    armv7) debarchs+=(armhf) ;;
    *) echo "test-arm: unknown target '$t' (aarch64 or armv7)" >&2; exit 2 ;;
  esac
done
bash scripts/install-cross-deps.sh "${debarchs[@]}"

# The cpu backend's own tests: what runs under the extra CPU models.
KERNEL_TESTS='^(test_cpu_backend|test_kernels)$'

for t in "${TARGETS[@]}"; do
  case "$t" in
    aarch64) debarch=arm64 triplet=aarch64-linux-gnu qemu=qemu-aarch64-static
             runs=("cortex-a76:all" "cortex-a53:kernels") ;;
    armv7) debarch=armhf triplet=arm-linux-gnueabihf qemu=qemu-arm-static
           runs=("cortex-a7:all") ;;
  esac
  build="build-$t"
  sysroot="$SYSROOTS/sysroot-$debarch"
  cfg=(-DCMAKE_TOOLCHAIN_FILE="cmake/toolchain-$t.cmake" -DCMAKE_BUILD_TYPE=Release)
  if [ -f "$sysroot/.complete" ]; then
    echo "== $t: cross-build against the sysroot $sysroot =="
    cfg+=(-DEV_CROSS_SYSROOT="$sysroot" -DEV_WITH_HDF5=ON -DEV_WITH_MATIO=ON
          "-DCMAKE_CROSSCOMPILING_EMULATOR=$qemu;-L;$sysroot")
  else
    echo "== $t: cross-build against the $debarch multiarch packages (without HDF5 and libmatio) =="
    cfg+=(-UEV_CROSS_SYSROOT -DEV_WITH_HDF5=OFF -DEV_WITH_MATIO=OFF
          "-DCMAKE_CROSSCOMPILING_EMULATOR=$qemu")
  fi
  start=$SECONDS
  cmake -S . -B "$build" "${cfg[@]}" >/dev/null
  cmake --build "$build" -j"$JOBS"
  echo "== $t: built in $((SECONDS - start)) s =="
  # The library unoptimized too (compile only): intrinsics and asm that need an immediate must
  # still build at -O0, where nothing is folded into them (a Debug build is how users debug).
  start=$SECONDS
  cmake -S . -B "$build-O0" "${cfg[@]/%Release/Debug}" >/dev/null
  cmake --build "$build-O0" -j"$JOBS" --target edgevision_obj >/dev/null
  echo "== $t: library built at -O0 in $((SECONDS - start)) s =="
  for r in "${runs[@]}"; do
    cpu="${r%%:*}" what="${r#*:}"
    sel=()
    [ "$what" = kernels ] && sel=(-R "$KERNEL_TESTS")
    echo "== $t under $qemu -cpu $cpu ($what tests) =="
    start=$SECONDS
    (cd "$build" && QEMU_CPU="$cpu" EV_TEST_EMULATED=1 \
       ctest --output-on-failure -j"$JOBS" "${sel[@]}")
    echo "== $t -cpu $cpu: $((SECONDS - start)) s =="
  done
done
