#!/usr/bin/env bash
# setup.sh - installs the peer runtimes bench_backbone compares against, from the npm registry, into
# bench/peers/node_modules (gitignored). Versions are pinned in package.json and package-lock.json:
#   onnxruntime-node 1.30.0        ONNX Runtime 1.30.0, CPU library bundled (its postinstall only
#                                  fetches GPU files, so scripts are skipped: --ignore-scripts)
#   tfjs-tflite-node 0.0.2         TensorFlow Lite 2.9.0 (prebuilt libtensorflowlite_c.so); its small
#                                  N-API binding is compiled here with node-gyp (g++, make, python3)
#   @tensorflow/tfjs-core 4.9.0, @tensorflow/tfjs-tflite 0.0.1-alpha.10   (its dependencies)
# Idempotent: does nothing when the pinned versions are already installed and load (--force
# reinstalls). Exit status 0 when at least ONNX Runtime works; a TFLite failure is reported and
# bench_backbone then prints the TFLite peer as unavailable.
# --float: then also the float models bench_float needs (export_float.sh: ONNX exports of
# torchvision's ResNet50 and a torch MobileNetV1-0.50 PoseNet network, and a Keras ResNet50 .h5,
# into bench/peers/models/; apt-installs python3-torch, -torchvision, -onnx when missing).
# Usage: bash bench/peers/setup.sh [--force] [--float]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
force=0
float=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --float) float=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$a' (usage: bash bench/peers/setup.sh [--force] [--float])" >&2; exit 2 ;;
  esac
done

die() { echo "setup.sh: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found: install Node.js >= 18 (Debian: apt-get install nodejs npm)"
command -v npm  >/dev/null 2>&1 || die "npm not found (Debian: apt-get install npm)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old: onnxruntime-node 1.30 needs Node.js >= 18"

# Prints "ok" when package NAME is installed at VERSION.
have() { node -e '
  try { const v = require(process.argv[1] + "/node_modules/" + process.argv[2] + "/package.json").version;
        process.stdout.write(v === process.argv[3] ? "ok" : v); } catch (e) { process.stdout.write("missing"); }' \
  "$here" "$1" "$2"; }

check_ort()    { node -e 'const o = require(process.argv[1] + "/node_modules/onnxruntime-node"); process.stdout.write(o.env.versions.common)' "$here" 2>&1; }
check_tflite() { node -e 'require(process.argv[1] + "/node_modules/tfjs-tflite-node"); process.stdout.write("ok")' "$here" 2>&1; }

pinned=(onnxruntime-node@1.30.0 tfjs-tflite-node@0.0.2 @tensorflow/tfjs-core@4.9.0 @tensorflow/tfjs-tflite@0.0.1-alpha.10)

all_present=1
for p in "${pinned[@]}"; do
  [ "$(have "${p%@*}" "${p##*@}")" = ok ] || all_present=0
done
if [ "$force" = 0 ] && [ "$all_present" = 1 ] && [ "$(check_tflite | tail -c 2)" = ok ] && check_ort >/dev/null; then
  echo "peers already installed in $here/node_modules:"
else
  # One look-up of a package we need tells whether the registry answers, before npm's long retries.
  registry="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
  if ! timeout 60 npm view --fetch-retries=1 --fetch-timeout=20000 onnxruntime-node@1.30.0 version >/dev/null 2>&1; then
    die "the npm registry ($registry) is unreachable or does not serve onnxruntime-node@1.30.0; the peers cannot be installed.
  Check network/proxy settings (npm config get registry / https-proxy), then rerun bash bench/peers/setup.sh.
  bench_backbone still runs without peers (they are reported as not installed)."
  fi
  echo "installing the peers into $here/node_modules (npm ci --ignore-scripts, pinned by package-lock.json) ..."
  if ! npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; then
    die "npm ci failed (registry $registry); see the messages above"
  fi
  # The TFLite binding: node-gyp against the installed Node headers. Debian's nodejs ships them in
  # /usr/include/node; point node-gyp there so it does not try to download them.
  if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ] && \
     [ "$(npm config get nodedir 2>/dev/null)" = "undefined" -o -z "$(npm config get nodedir 2>/dev/null)" ]; then
    export npm_config_nodedir=/usr
  fi
  echo "building the tfjs-tflite-node binding (node-gyp) ..."
  if ! npm rebuild tfjs-tflite-node --loglevel=error >"$here/node_modules/.tflite-build.log" 2>&1; then
    echo "setup.sh: warning: building tfjs-tflite-node's binding failed (log: $here/node_modules/.tflite-build.log);" >&2
    echo "  it needs g++, make and python3 (Debian: apt-get install build-essential python3). The TFLite peer" >&2
    echo "  will report itself unavailable; ONNX Runtime is unaffected." >&2
  fi
fi

ort_v="$(check_ort)" || die "onnxruntime-node does not load: $ort_v"
echo "  onnxruntime-node 1.30.0 (ONNX Runtime $ort_v)"
tfl="$(check_tflite || true)"
if [ "$(printf %s "$tfl" | tail -c 2)" = ok ]; then
  echo "  tfjs-tflite-node 0.0.2 (TensorFlow Lite 2.9.0), @tensorflow/tfjs-core 4.9.0, @tensorflow/tfjs-tflite 0.0.1-alpha.10"
else
  echo "  tfjs-tflite-node: NOT usable: $(printf %s "$tfl" | grep -m1 -E 'Error|error' || echo "$tfl" | head -1)" >&2
fi
echo "run: ./build/bench_backbone   (or node $here/peer_ort.js MODEL.onnx THREADS RUNS)"
if [ "$float" = 1 ]; then
  fargs=(); [ "$force" = 1 ] && fargs+=(--force)
  bash "$here/export_float.sh" "${fargs[@]}"
fi
