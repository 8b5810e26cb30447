#!/usr/bin/env bash
# experiments.sh - the seed study's "car or not a car" experiments on $EDGEVISION_SHARED/data/
# vehicles with the MobileNetV1 extractor: random vs group split, with and without dropout,
# batch 32 vs 128, more dense layers; three seeds each. Features are extracted once into a
# shared cache (out/experiments/vehicles.features) and reused by every run. Writes the table to
# docs/experiments.md and the seed-1 learning curves to docs/experiments/*.svg.
#
# Usage: bash scripts/experiments.sh [BUILD_DIR]     (default build; runs take ~1-2 minutes
# for the feature extraction on 2 cores, then seconds per run)
# Environment:
#   BACKBONE=FILE     another frozen backbone, e.g. a Keras ResNet50 without top
#                     (build/make_resnet50_h5 resnet50_notop.h5 --notop writes one with random
#                     weights; the ImageNet file is resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5).
#                     Its runs go to out/experiments-<name>/ and docs/experiments-<name>.md
#                     (<name>: the file name without extension); the default table is untouched.
#   LIMIT=N           only the first N images of each source folder (--limit N), for quick runs
#   FEATURES_ONLY=1   build the feature cache once, print the extraction time per image and the
#                     figure for all 8,826 images, and stop (no experiments, no docs)
#   KEEP_CACHE=1      reuse the feature cache of an earlier run
# Extend: add a line to EXPERIMENTS below (name|description|train options).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
EV=$BUILD/edgevision
SHARED=${EDGEVISION_SHARED:-../shared}
DATA=$SHARED/data/vehicles
DEFAULT_BACKBONE=$SHARED/models/mobilenet/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite
BACKBONE=${BACKBONE:-$DEFAULT_BACKBONE}
if [ "$BACKBONE" = "$DEFAULT_BACKBONE" ]; then
  TAG=""; DOC=docs/experiments.md; SVG_PREFIX=""
  BACKBONE_DESC="MobileNetV1 1.0 224 embedding extractor
(uint8, 1024 features, bilinear resize to 224x224, \`cpu\` backend)"
else
  TAG=$(basename "$BACKBONE"); TAG=${TAG%.*}
  DOC=docs/experiments-$TAG.md; SVG_PREFIX="${TAG}_"
  BACKBONE_DESC="\`$BACKBONE\` (the model's own preprocessing and
input size, \`cpu\` backend)"
fi
OUT=out/experiments${TAG:+-$TAG}
CACHE=$OUT/vehicles.features
LIMIT_OPT=()
[ -n "${LIMIT:-}" ] && LIMIT_OPT=(--limit "$LIMIT")
SEEDS="1 2 3"
EPOCHS=10
[ -x "$EV" ] || { echo "experiments.sh: $EV not built (cmake --build $BUILD)" >&2; exit 1; }
[ -d "$DATA" ] || { echo "experiments.sh: $DATA not found (set EDGEVISION_SHARED)" >&2; exit 1; }
[ -f "$BACKBONE" ] || { echo "experiments.sh: backbone $BACKBONE not found" >&2; exit 1; }
mkdir -p "$OUT" docs/experiments
# Built fresh so the table's extraction time is measured (KEEP_CACHE=1 reuses it).
[ "${KEEP_CACHE:-0}" = 1 ] || rm -f "$CACHE" "$CACHE.tsv"

field() { sed -n "s/.*\"$2\": \([-0-9.eE]*\).*/\1/p" "$1" | head -1; }

if [ "${FEATURES_ONLY:-0}" = 1 ]; then
  run=$OUT/features_only
  rm -rf "$run"
  "$EV" train --data "$DATA" --backbone "$BACKBONE" --cache "$CACHE" --epochs 1 --out "$run" \
    --quiet "${LIMIT_OPT[@]}" >/dev/null
  n=$(field "$run/run.json" images); s=$(field "$run/run.json" feature_seconds)
  th=$(field "$run/run.json" threads)
  echo "features: $n images in $s s with $th threads: $(echo "scale=1; 1000 * $s / $n" | bc -l) ms per image;" \
       "8,826 images: $(echo "scale=0; 8826 * $s / $n" | bc -l) s ($(echo "scale=2; 8826 * $s / $n / 3600" | bc -l) h)"
  exit 0
fi

EXPERIMENTS=(
  "random|random split (stratified), Dense(32), batch 32|--split stratified"
  "group|group split (blocks of 50 frames), Dense(32), batch 32|--split group"
  "random_dropout|random split, Dense(32) + Dropout(0.3)|--split stratified --dropout 0.3"
  "group_dropout|group split, Dense(32) + Dropout(0.3)|--split group --dropout 0.3"
  "group_batch128|group split, Dense(32), batch 128|--split group --batch 128"
  "group_dense3|group split, Dense(256) Dense(64) Dense(32)|--split group --hidden 256,64,32"
  "group_dense3_dropout|group split, Dense(256) Dense(64) Dense(32), Dropout(0.3)|--split group --hidden 256,64,32 --dropout 0.3"
)

ROWS=""
for e in "${EXPERIMENTS[@]}"; do
  IFS='|' read -r name desc opts <<< "$e"
  accs=""; sum=0; miss=""; secs=""; fsecs=""
  for seed in $SEEDS; do
    run=$OUT/$name/seed$seed
    rm -rf "$run"
    # shellcheck disable=SC2086
    "$EV" train --data "$DATA" --backbone "$BACKBONE" --cache "$CACHE" --epochs $EPOCHS \
      --seed "$seed" --out "$run" --quiet "${LIMIT_OPT[@]}" $opts >/dev/null
    if grep -q '"feature_cache_hit": false' "$run/run.json"; then
      field "$run/run.json" feature_seconds > "$OUT/feature_seconds.txt"   # the build's time
    fi
    a=$(field "$run/report.json" accuracy)
    m=$(field "$run/report.json" misclassified)
    t=$(field "$run/run.json" training_seconds)
    f=$(field "$run/run.json" feature_seconds)
    accs="$accs $(printf '%.2f' "$(echo "$a * 100" | bc -l)")"
    sum=$(echo "$sum + $a" | bc -l)
    miss="$miss/$m"; secs="$secs/$t"; fsecs="$fsecs/$f"
  done
  mean=$(printf '%.2f' "$(echo "$sum / 3 * 100" | bc -l)")
  read -r a1 a2 a3 <<< "$accs"
  ROWS="$ROWS| $name | $desc | $a1 | $a2 | $a3 | **$mean** | ${miss#/} | ${secs#/} |"$'\n'
  cp "$OUT/$name/seed1/accuracy.svg" "docs/experiments/${SVG_PREFIX}${name}_accuracy.svg"
  cp "$OUT/$name/seed1/loss.svg" "docs/experiments/${SVG_PREFIX}${name}_loss.svg"
  echo "$name: test accuracy $accs (mean $mean %), misclassified ${miss#/}" >&2
done

FIRST=$OUT/random/seed1/run.json
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat > docs/experiments.tmp <<EOF2
# Experiments: car or not a car on the vehicle crops

Produced by \`bash scripts/experiments.sh\` on $(date -u +%Y-%m-%d) ($CPU, $(nproc) cores).
Data: \`data/vehicles\` (8,826 64x64 crops; car/: GTI_Far, GTI_Left, GTI_MiddleClose, GTI_Right,
KITTI_extracted; not_car/: GTI, Extras)${LIMIT:+, the first $LIMIT images of each source folder}.
Backbone: $BACKBONE_DESC. Head trained with Keras
semantics (glorot, Adam lr 0.001, logit-form binary cross-entropy), $EPOCHS epochs, splits
50/30/20; the test figures are of the best epoch by validation loss. Three seeds per experiment
(the seed drives the split, the initial weights, the shuffles and dropout).

Feature extraction (once, cached in \`$CACHE\`, reused by every run): **$(cat "$OUT/feature_seconds.txt") s**
for $(field "$FIRST" images) images with $(field "$FIRST" threads) threads when the first run built it; the
other runs load the cache in well under a second. Training: the seconds column is the whole fit ($EPOCHS
epochs, validation included) per seed.

| experiment | setup | test acc % seed 1 | seed 2 | seed 3 | mean % | misclassified (test) | training s |
|---|---|---|---|---|---|---|---|
$ROWS
Test sets have about 1,750 images (20 %), so one image is 0.057 %.

See docs/training.md for the tool. Learning curves (seed 1) are in docs/experiments/:
\`${SVG_PREFIX}<experiment>_accuracy.svg\` and \`${SVG_PREFIX}<experiment>_loss.svg\` (train solid, validation dashed).
EOF2
# Keep the hand-written analysis below the marker when regenerating.
if [ -f "$DOC" ] && grep -q '^<!-- analysis -->' "$DOC"; then
  sed -n '/^<!-- analysis -->/,$p' "$DOC" >> docs/experiments.tmp
fi
mv docs/experiments.tmp "$DOC"
echo "wrote $DOC and docs/experiments/${SVG_PREFIX}*.svg" >&2
