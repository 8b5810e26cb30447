#!/usr/bin/env bash
# Installs the Debian 12 packages edgevision needs to build and test (idempotent; quick when
# everything is already there). Uses sudo when not run as root. The python3-* packages are for
# the Python package (python/) and its tests, which use /usr/bin/python3.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libjpeg62-turbo-dev libpng-dev libstb-dev libcjson-dev
      libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev librsvg2-bin
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata libhdf5-dev libmatio-dev
      clang libclang-rt-14-dev python3-numpy python3-pytest python3-pip python3-setuptools)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
