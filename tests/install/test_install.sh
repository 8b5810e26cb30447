#!/usr/bin/env bash
# test_install.sh BUILD_DIR [SHARED_DEFAULT] - CTest's test_install: installs BUILD_DIR into a
# fresh prefix (cmake --install), checks the tree (soname link, only the public API exported,
# header, CLI, edgevision.pc, the CMake package), then builds tests/install/consumer.c against it
# with pkg-config and with find_package(edgevision) (shared library), and statically
# (libedgevision.a with `pkg-config --static`, and find_package COMPONENTS static), and runs
# each. The consumers also load and run mobilenet_v1_0.5_160_quant.tflite from
# $EDGEVISION_SHARED (default SHARED_DEFAULT) when it is there. $EV_CONSUMER_CFLAGS is added to every build (the sanitizer flags of an ASan build).
# Extend: a new installed file is one more `need` line; a new consumer check goes in consumer.c.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
SHARED="${EDGEVISION_SHARED:-${2:-../shared}}"
MODEL="$SHARED/models/mobilenet/mobilenet_v1_0.5_160_quant.tflite"
SRC="$(cd "$(dirname "$0")" && pwd)"
WORK="$BUILD/test_install"
rm -rf "$WORK"
mkdir -p "$WORK"
P="$WORK/prefix"
cmake --install "$BUILD" --prefix "$P" >"$WORK/install.log"
LIBDIR="$(dirname "$(find "$P" -name libedgevision.so.0 | head -1)")"
fail() { echo "test_install: FAIL: $*" >&2; exit 1; }
need() { [ -e "$1" ] || fail "$1 is not installed"; }
need "$LIBDIR/libedgevision.so.0"
need "$LIBDIR/libedgevision.so"
need "$LIBDIR/libedgevision.a"
need "$LIBDIR/pkgconfig/edgevision.pc"
need "$LIBDIR/cmake/edgevision/edgevision-config.cmake"
need "$P/include/edgevision.h"
need "$P/bin/edgevision"
soname="$(objdump -p "$LIBDIR/libedgevision.so.0" | awk '$1 == "SONAME" {print $2}')"
[ "$soname" = "libedgevision.so.0" ] || fail "soname is '$soname', want libedgevision.so.0"
# every exported function or object is the public API's ev_ prefix
bad="$(nm -D --defined-only "$LIBDIR/libedgevision.so.0" | awk '$2 ~ /[TDBRVW]/ {print $3}' |
       grep -v '^ev_' | grep -v '^_init$' | grep -v '^_fini$' || true)"
[ -z "$bad" ] || fail "symbols exported beyond the public API: $(echo $bad | head -c 300)"
nexp="$(nm -D --defined-only "$LIBDIR/libedgevision.so.0" | grep -c ' T ev_')"
echo "installed tree $P: soname $soname, $nexp public functions exported"
"$P/bin/edgevision" --version | head -1

CFLAGS_EXTRA="${EV_CONSUMER_CFLAGS:-}"
ARGS=()
if [ -f "$MODEL" ]; then ARGS=("$MODEL"); else echo "note: $MODEL absent: the consumers run no model"; fi

echo "== pkg-config consumer =="
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
echo "pkg-config --cflags --libs edgevision: $(pkg-config --cflags --libs edgevision)"
echo "features: $(pkg-config --variable=features edgevision)"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $CFLAGS_EXTRA -o "$WORK/consumer_pc" "$SRC/consumer.c" \
   $(pkg-config --cflags --libs edgevision) -Wl,-rpath,"$(pkg-config --variable=libdir edgevision)"
readelf -d "$WORK/consumer_pc" | grep -q 'NEEDED.*libedgevision.so.0' ||
  fail "the pkg-config consumer does not need libedgevision.so.0"
"$WORK/consumer_pc" "${ARGS[@]}"

echo "== find_package consumer =="
cmake -S "$SRC" -B "$WORK/consumer_cmake" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $CFLAGS_EXTRA" >"$WORK/cmake.log" ||
  { cat "$WORK/cmake.log"; fail "configuring the find_package consumer"; }
grep 'edgevision 0' "$WORK/cmake.log" || true
cmake --build "$WORK/consumer_cmake" >"$WORK/build.log" ||
  { cat "$WORK/build.log"; fail "building the find_package consumer"; }
readelf -d "$WORK/consumer_cmake/consumer" | grep -q 'NEEDED.*libedgevision.so.0' ||
  fail "the find_package consumer does not need libedgevision.so.0"
"$WORK/consumer_cmake/consumer" "${ARGS[@]}"
# a component this build lacks fails find_package(... REQUIRED COMPONENTS)
if cmake -S "$SRC" -B "$WORK/consumer_missing" -DCMAKE_PREFIX_PATH="$P" \
      -DEV_CONSUMER_COMPONENTS=no_such_feature >"$WORK/cmake_missing.log" 2>&1; then
  fail "find_package(edgevision COMPONENTS no_such_feature) succeeded"
fi
echo "find_package(edgevision REQUIRED COMPONENTS no_such_feature) fails, as it should"

echo "== static link through pkg-config --static =="
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $CFLAGS_EXTRA -o "$WORK/consumer_static" "$SRC/consumer.c" \
   $(pkg-config --cflags edgevision) "$LIBDIR/libedgevision.a" \
   $(pkg-config --static --libs edgevision | sed 's/-ledgevision\b//')
if readelf -d "$WORK/consumer_static" | grep -q 'NEEDED.*libedgevision'; then
  fail "the static consumer needs the shared library"
fi
"$WORK/consumer_static"

echo "== static link through find_package(edgevision COMPONENTS static) =="
cmake -S "$SRC" -B "$WORK/consumer_cmake_static" -DCMAKE_PREFIX_PATH="$P" -DEV_CONSUMER_STATIC=ON \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $CFLAGS_EXTRA" \
      >"$WORK/cmake_static.log" 2>&1 && cmake --build "$WORK/consumer_cmake_static" \
      >>"$WORK/cmake_static.log" 2>&1 ||
  { cat "$WORK/cmake_static.log"; fail "the find_package static consumer"; }
if readelf -d "$WORK/consumer_cmake_static/consumer" | grep -q 'NEEDED.*libedgevision'; then
  fail "the find_package static consumer needs the shared library"
fi
"$WORK/consumer_cmake_static/consumer" "${ARGS[@]}"
echo "test_install: ok"
