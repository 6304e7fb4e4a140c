#!/usr/bin/env bash
# Sets everything up and runs the main job on the default data (Fashion-MNIST shoes):
# the coloured colour x type shoes with their preview grid, label statistics, the
# dominant-colour accuracy, edge maps with A|B pairs, masks and TFRecord shards.
# Everything lands in ${OUT:-outputs}/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
OUT=${OUT:-outputs}
BIN=.venv/bin
mkdir -p "$OUT"

echo "== 1/6 colour x type Fashion-MNIST shoes (64 px) -> $OUT/fmnist_color" >&2
$BIN/shoes-data colorize-fmnist "$OUT/fmnist_color" --split both --size 64 --seed 0 --summary "$OUT/colorize.json" >/dev/null
echo "== 2/6 label statistics -> $OUT/stats" >&2
$BIN/shoes-data stats "$OUT/fmnist_color" --out "$OUT/stats" --summary "$OUT/stats.json" >/dev/null
echo "== 3/6 dominant-colour accuracy on the coloured test shoes -> $OUT/dominant_color_accuracy.json" >&2
$BIN/python benchmarks/dominant_color_accuracy.py > "$OUT/dominant_color_accuracy.json"
echo "== 4/6 sketches and A|B pairs for pix2pix (first 200 test shoes) -> $OUT/edges" >&2
$BIN/shoes-data downsample "$OUT/fmnist_color" "$OUT/sample200" -f 200 -s 64 --summary "$OUT/downsample.json" >/dev/null
$BIN/shoes-data edges "$OUT/sample200" "$OUT/edges" --pairs --summary "$OUT/edges.json" >/dev/null
echo "== 5/6 masks -> $OUT/masks" >&2
$BIN/shoes-data masks "$OUT/sample200" "$OUT/masks" --summary "$OUT/masks.json" >/dev/null
echo "== 6/6 TFRecord shards -> $OUT/tfrecords" >&2
$BIN/shoes-data to-tfrecords "$OUT/sample200" "$OUT/tfrecords" --shards 2 --summary "$OUT/tfrecords.json" >/dev/null

echo "main job done; PNGs:" >&2
find "$OUT" -maxdepth 2 -name '*.png' -not -path "*/fmnist_color/*" | sort >&2
python3 -c "import json,sys; print(json.dumps({k: json.load(open(sys.argv[1]))[k] for k in ('accuracy',) if k in json.load(open(sys.argv[1]))}))" "$OUT/dominant_color_accuracy.json" || true
