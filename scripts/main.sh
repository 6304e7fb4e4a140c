#!/usr/bin/env bash
# Sets everything up and runs the main job on the default data (Fashion-MNIST shoes):
#   1. the colour x type shoes as PNGs + manifest, label statistics, dominant-colour accuracy;
#   2. trains the preset cgan_fmnist_color (about 10 minutes on 2 CPU cores), which leaves
#      the colour x type sample grid, the loss curve, checkpoints and an exported SavedModel;
#   3. measures it (type and colour accuracy, Frechet distance, FID, KID, precision/recall, each
#      beside its real-vs-real floor) and fits its latent heel-height direction (edit grid);
#   4. publishes the generator into a TF Serving model base (shoes-export), serves it with
#      shoes-serve (TF Serving's gRPC and REST APIs) and asks it, through the thin client, for a
#      colour x type grid of shoes (PNGs + contact sheet); opens shoes-studio over it in headless
#      Chromium and leaves a screenshot of each tab in outputs/studio/; then stops the server;
#   5. sketches, A|B pairs, masks and TFRecord shards of a 200-shoe sample;
#   6. trains the U-Net shoe segmenter (segment_fmnist_unet, under a minute) and scores it on
#      the held-out Fashion-MNIST test split (pixel accuracy, per-class and mean IoU).
# Everything lands in ${OUT:-outputs}/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test  # --test: Selenium and (as root) Chromium for the studio's screenshots
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
OUT=${OUT:-outputs}
BIN=.venv/bin
mkdir -p "$OUT"
step() { echo "== $*" >&2; }

step "1/6 coloured Fashion-MNIST shoes (64 px) -> $OUT/fmnist_color, statistics, colour-labelling accuracy"
$BIN/shoes-data colorize-fmnist "$OUT/fmnist_color" --split both --size 64 --seed 0 \
  --preview "$OUT/fmnist_color_preview.png" --summary "$OUT/colorize.json" >/dev/null
$BIN/shoes-data stats "$OUT/fmnist_color" --out "$OUT/stats" --summary "$OUT/stats.json" >/dev/null
$BIN/python benchmarks/dominant_color_accuracy.py > "$OUT/dominant_color_accuracy.json"

step "2/6 training cgan_fmnist_color -> $OUT/runs"
# The last stdout line of shoes-train is {"run": DIR, "step": N}.
run_dir() { tee /dev/stderr | tail -n 1 | $BIN/python -c 'import json, sys; print(json.load(sys.stdin)["run"])'; }
RUN=$($BIN/shoes-train --config cgan_fmnist_color -o "$OUT/runs" ${EPOCHS:+--epochs "$EPOCHS"} --quiet | run_dir)

step "3/6 measuring $RUN, and its latent height direction -> $OUT/explore/height"
$BIN/shoes-eval "$RUN" -n "${EVAL_SAMPLES:-2000}" --metrics fid,kid,pr -o "$OUT/eval.json" >/dev/null
$BIN/shoes-explore direction "$RUN" --attribute height -n 1000 --label color=black \
  --label category=ankle_boot -o "$OUT/explore/height" >/dev/null

step "4/6 serving the generator, asking it for a colour x type grid, the studio's tabs -> $OUT/models, $OUT/shoes, $OUT/studio"
STUDIO_OUT="$OUT/studio" STUDIO_DIRECTION="$OUT/explore/height" bash scripts/serve_demo.sh "$RUN" "$OUT"

step "5/6 sketches, A|B pairs, masks and TFRecords of 200 shoes -> $OUT/{sample200,edges,masks,tfrecords}"
$BIN/shoes-data downsample "$OUT/fmnist_color" "$OUT/sample200" -f 200 -s 64 --summary "$OUT/downsample.json" >/dev/null
$BIN/shoes-data edges "$OUT/sample200" "$OUT/edges" --pairs --summary "$OUT/edges.json" >/dev/null
$BIN/shoes-data masks "$OUT/sample200" "$OUT/masks" --summary "$OUT/masks.json" >/dev/null
$BIN/shoes-data to-tfrecords "$OUT/sample200" "$OUT/tfrecords" --shards 2 --summary "$OUT/tfrecords.json" >/dev/null

step "6/6 training the U-Net shoe segmenter and scoring it on held-out shoes -> $OUT/runs, $OUT/segment_eval.json"
SEGMENT_RUN=$($BIN/shoes-train --config segment_fmnist_unet -o "$OUT/runs" --quiet | run_dir)
$BIN/shoes-eval "$SEGMENT_RUN" -n 3000 -o "$OUT/segment_eval.json" >/dev/null

step "done. Sample grid: $RUN/samples/latest.png, loss curve: $RUN/loss_curve.png, served shoes: $OUT/shoes/grid.png"
$BIN/python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
report = json.load(open(f"{out}/eval.json"))
colors = json.load(open(f"{out}/dominant_color_accuracy.json"))
direction = json.load(open(f"{out}/explore/height/direction.json"))
segment = json.load(open(f"{out}/segment_eval.json"))
keys = ("type_accuracy", "color_accuracy", "frechet_distance", "frechet_floor_real_vs_real",
        "fid_classifier", "fid_classifier_floor_real_vs_real", "precision_classifier", "recall_classifier")
print(json.dumps({
    "generator": {k: report.get(k) for k in keys},
    "height_direction": {k: direction.get(k) for k in ("r2", "monotonic_share")},
    "segmenter": {k: segment.get(k) for k in ("pixel_accuracy", "mean_iou", "per_class_iou")},
    "dominant_color_accuracy": colors.get("accuracy"),
}, indent=2))
PY
