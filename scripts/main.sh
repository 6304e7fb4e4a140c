#!/usr/bin/env bash
# Sets everything up and runs the main job on the default data (Fashion-MNIST shoes):
#   1. the colour x type shoes as PNGs + manifest, label statistics, dominant-colour accuracy;
#   2. trains the preset cgan_fmnist_color (about 10 minutes on 2 CPU cores), which leaves
#      the colour x type sample grid, the loss curve, checkpoints and an exported SavedModel;
#   3. measures it (type and colour accuracy, Frechet distance and its real-vs-real floor);
#   4. publishes the generator into a TF Serving model base (shoes-export), serves it with
#      shoes-serve (TF Serving's gRPC and REST APIs) and asks it, through the thin client, for a
#      colour x type grid of shoes (PNGs + contact sheet); then stops the server;
#   5. sketches, A|B pairs, masks and TFRecord shards of a 200-shoe sample.
# Everything lands in ${OUT:-outputs}/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
OUT=${OUT:-outputs}
BIN=.venv/bin
mkdir -p "$OUT"
step() { echo "== $*" >&2; }

step "1/5 coloured Fashion-MNIST shoes (64 px) -> $OUT/fmnist_color, statistics, colour-labelling accuracy"
$BIN/shoes-data colorize-fmnist "$OUT/fmnist_color" --split both --size 64 --seed 0 \
  --preview "$OUT/fmnist_color_preview.png" --summary "$OUT/colorize.json" >/dev/null
$BIN/shoes-data stats "$OUT/fmnist_color" --out "$OUT/stats" --summary "$OUT/stats.json" >/dev/null
$BIN/python benchmarks/dominant_color_accuracy.py > "$OUT/dominant_color_accuracy.json"

step "2/5 training cgan_fmnist_color -> $OUT/runs"
$BIN/shoes-train --config cgan_fmnist_color --out "$OUT/runs" ${EPOCHS:+--epochs "$EPOCHS"} --quiet
RUN=$(ls -d "$OUT"/runs/*-cgan_fmnist_color | sort | tail -1)

step "3/5 measuring $RUN"
$BIN/shoes-eval "$RUN" -n "${EVAL_SAMPLES:-2000}" --out "$OUT/eval.json" >/dev/null

step "4/5 serving the generator and asking it for a colour x type grid -> $OUT/models, $OUT/shoes"
bash scripts/serve_demo.sh "$RUN" "$OUT"

step "5/5 sketches, A|B pairs, masks and TFRecords of 200 shoes -> $OUT/{sample200,edges,masks,tfrecords}"
$BIN/shoes-data downsample "$OUT/fmnist_color" "$OUT/sample200" -f 200 -s 64 --summary "$OUT/downsample.json" >/dev/null
$BIN/shoes-data edges "$OUT/sample200" "$OUT/edges" --pairs --summary "$OUT/edges.json" >/dev/null
$BIN/shoes-data masks "$OUT/sample200" "$OUT/masks" --summary "$OUT/masks.json" >/dev/null
$BIN/shoes-data to-tfrecords "$OUT/sample200" "$OUT/tfrecords" --shards 2 --summary "$OUT/tfrecords.json" >/dev/null

step "done. Sample grid: $RUN/samples/latest.png, loss curve: $RUN/loss_curve.png, served shoes: $OUT/shoes/grid.png"
$BIN/python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
report = json.load(open(f"{out}/eval.json"))
colors = json.load(open(f"{out}/dominant_color_accuracy.json"))
keys = ("type_accuracy", "color_accuracy", "frechet_distance", "frechet_floor_real_vs_real")
print(json.dumps({"generator": {k: report.get(k) for k in keys}, "dominant_color_accuracy": colors.get("accuracy")}, indent=2))
PY
