#!/usr/bin/env bash
# First command of the README: install the Debian packages, build (Release), and run the main
# job: PoseNet (Coral MobileNetV1-0.75, 353x481, uint8) on the reference image, with the skeletons
# drawn into out/test_couple_pose.png.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${EDGEVISION_SHARED:-../shared}"
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
mkdir -p out
MODEL="$SHARED/models/posenet/posenet_mobilenet_v1_075_353_481_quant_decoder.tflite"
IMAGE="$SHARED/data/images/test_couple.jpg"
if [ ! -f "$MODEL" ] || [ ! -f "$IMAGE" ]; then
  echo "setup: built, but the default model/image are absent under $SHARED (set EDGEVISION_SHARED)" >&2
  exit 1
fi
./build/edgevision pose --model "$MODEL" --draw out/test_couple_pose.png "$IMAGE"
echo "skeletons drawn: out/test_couple_pose.png"
