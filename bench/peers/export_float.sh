#!/usr/bin/env bash
# export_float.sh - the models bench_float needs, into bench/peers/models/ (gitignored):
#   resnet50_tv.onnx, mobilenetv2_tv.onnx, posenet_mnv1_050.onnx (+ .json MAC counts)
#       export_float.py: torchvision's ResNet50 and MobileNetV2 (weights=None) and a torch
#       MobileNetV1-0.50 PoseNet network, exported to ONNX
#       with Debian's python3-torch / python3-torchvision / python3-onnx (/usr/bin/python3)
#   resnet50.h5                                                     BUILD/make_resnet50_h5: a Keras
#       ResNet50 with random weights (our side of the ResNet50 case; seed 1)
# Installs the three Python packages with apt-get when /usr/bin/python3 cannot import them (as
# root, or through sudo), and says so clearly when it cannot. Idempotent: files already there are
# kept (--force rewrites them). Run by `bash bench/peers/setup.sh --float`, or alone.
# Usage: bash bench/peers/export_float.sh [--force] [--build DIR]   (DIR: default build)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
force=0
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --build) shift; build="$(cd "${1:?--build needs a folder}" && pwd)" ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "export_float.sh: unknown option '$1' (usage: bash bench/peers/export_float.sh [--force] [--build DIR])" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "export_float.sh: error: $*" >&2; exit 1; }
out="$here/models"
mkdir -p "$out"

# Debian's packages are built for the system interpreter; a pyenv or venv python3 would not see them.
PY=/usr/bin/python3
[ -x "$PY" ] || die "$PY not found (Debian: apt-get install python3)"
pkgs=(python3-torch python3-torchvision python3-onnx)
if ! "$PY" -c 'import torch, torchvision, onnx' >/dev/null 2>&1; then
  echo "installing ${pkgs[*]} with apt-get (needed once, to export the ONNX models) ..."
  if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    die "cannot install ${pkgs[*]}: not root and no password-less sudo.
  Install them yourself (sudo apt-get install ${pkgs[*]}) and rerun; bench_float then runs
  without the ONNX Runtime side (it reports the models as absent)."
  fi
  if ! { "${SUDO[@]}" apt-get install -y --no-install-recommends "${pkgs[@]}" ||
         { "${SUDO[@]}" apt-get update && "${SUDO[@]}" apt-get install -y --no-install-recommends "${pkgs[@]}"; }; }; then
    die "apt-get could not install ${pkgs[*]} (no network or no such packages in this release?).
  They are Debian 12 packages; bench_float runs without the ORT side until they are there."
  fi
  "$PY" -c 'import torch, torchvision, onnx' || die "installed, but $PY still cannot import torch, torchvision and onnx"
fi

args=("$out"); [ "$force" = 1 ] && args+=(--force)
echo "ONNX models in $out:"
"$PY" "$here/export_float.py" "${args[@]}"

h5="$out/resnet50.h5"
if [ "$force" = 0 ] && [ -s "$h5" ]; then
  echo "  $h5: present"
elif [ -x "$build/make_resnet50_h5" ]; then
  "$build/make_resnet50_h5" "$h5.tmp" --seed 1 >/dev/null && mv "$h5.tmp" "$h5"
  echo "  $h5: written (Keras ResNet50, random weights, seed 1)"
else
  echo "export_float.sh: warning: $build/make_resnet50_h5 not built (cmake --build build --target make_resnet50_h5;" >&2
  echo "  it needs HDF5, EV_WITH_HDF5=ON); bench_float skips our ResNet50 until $h5 exists." >&2
fi
echo "run: ./build/bench_float"
