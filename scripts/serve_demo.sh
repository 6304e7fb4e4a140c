#!/usr/bin/env bash
# The serving demo of the main job: publish a run's generator into a TF Serving model base,
# serve it with shoes-serve, ask it through the thin client for a colour x type grid (gRPC)
# and for truncated red ankle boots (REST); with STUDIO_OUT=DIR, shoes-studio over the served models leaves a
# screenshot of each tab there (headless Chromium; STUDIO_DIRECTION=DIR adds a shoes-explore direction for the
# Edit tab); then stop the server gracefully.
# Usage: bash scripts/serve_demo.sh RUN_DIR OUT   (ports: GRPC_PORT=8500 REST_PORT=8501)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=$1
OUT=$2
BIN=${BIN:-.venv/bin}
mkdir -p "$OUT"
$BIN/shoes-export "$RUN" --model-base "$OUT/models" --model shoes > "$OUT/export.json"
GRPC_PORT=${GRPC_PORT:-8500}
REST_PORT=${REST_PORT:-8501}
$BIN/shoes-serve --model-base "$OUT/models" --server "127.0.0.1:$GRPC_PORT" --rest-port "$REST_PORT" --enable-batching \
  2> "$OUT/shoes-serve.log" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
ready=""
for _ in $(seq 120); do  # TensorFlow's import and the model's warm-up take a few seconds.
  kill -0 $SERVER 2>/dev/null || { echo "shoes-serve exited; its log:" >&2; cat "$OUT/shoes-serve.log" >&2; exit 1; }
  if $BIN/shoes-client --server "localhost:$GRPC_PORT" status >/dev/null 2>&1; then ready=1; break; fi
  sleep 1
done
[ -n "$ready" ] || { echo "shoes-serve did not answer within 120 s; its log:" >&2; cat "$OUT/shoes-serve.log" >&2; exit 1; }
$BIN/shoes-client --server "localhost:$GRPC_PORT" grid -n 4 -o "$OUT/shoes" > "$OUT/grid.json"
$BIN/shoes-client --rest "http://localhost:$REST_PORT" generate --color red --category ankle_boot -n 4 \
  --truncation 1.0 -o "$OUT/shoes/truncated" > /dev/null
if [ -n "${STUDIO_OUT:-}" ]; then
  $BIN/python scripts/studio_screenshots.py --server "localhost:$GRPC_PORT" --model-base "$OUT/models" \
    ${STUDIO_DIRECTION:+--direction "shoes=$STUDIO_DIRECTION"} -o "$STUDIO_OUT" > "$OUT/studio.json" \
    || echo "serve_demo: WARNING: no studio screenshots in $STUDIO_OUT (the line above says why)" >&2
fi
trap - EXIT
kill -TERM $SERVER
wait $SERVER  # Graceful shutdown exits 0.
