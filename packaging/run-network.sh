#!/usr/bin/env bash
# The README's network command: builds, then runs the whole network on this machine: the
# demo site on 127.0.0.1:8481, a coordinator on SQLite in ./meadow-demo, an admin key, a
# data buyer with an API key, the buyer's crawl of the demo site and two meadow-node
# processes that do the work. It waits for the job to finish, downloads and verifies the
# dataset with the example client, and prints how to fetch it. Ctrl-C stops everything.
# MEADOW_DEMO_SECONDS=N stops it by itself N seconds after the job is done.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

meadow_install_packages
meadow_build OFF

DEMO_DIR="${MEADOW_DEMO_DIR:-$MEADOW_ROOT/meadow-demo}"
PORT="${MEADOW_DEMO_PORT:-8480}"
BIN="$MEADOW_BUILD/coordinator/meadow-coordinator"
NODE="$MEADOW_BUILD/client/node/meadow-node"
SITE="$MEADOW_BUILD/tests/demo_site/meadow-demo-site"
SITE_PORT="${MEADOW_DEMO_SITE_PORT:-8481}"
mkdir -p "$DEMO_DIR"
cat >"$DEMO_DIR/coordinator.conf" <<CONF
# A demo coordinator: loopback only, demo URLs on 127.0.0.1 allowed.
listen = 127.0.0.1:$PORT
data_dir = $DEMO_DIR/data
allow_loopback_targets = true
lease_ms = 60000
CONF

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

meadow_say "starting the demo site on http://127.0.0.1:$SITE_PORT"
"$SITE" --port "$SITE_PORT" --access-log "$DEMO_DIR/site-access.log" >"$DEMO_DIR/site.log" 2>&1 &
pids+=($!)

meadow_say "starting meadow-coordinator on http://127.0.0.1:$PORT"
"$BIN" serve --config "$DEMO_DIR/coordinator.conf" 2>>"$DEMO_DIR/coordinator.log" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null

if [ ! -s "$DEMO_DIR/admin.key" ]; then
  "$BIN" admin-key create --config "$DEMO_DIR/coordinator.conf" --label demo >"$DEMO_DIR/admin.key"
  chmod 600 "$DEMO_DIR/admin.key"
fi
ADMIN_KEY="$(cat "$DEMO_DIR/admin.key")"

if [ ! -s "$DEMO_DIR/buyer.key" ]; then
  "$BIN" customer add "demo buyer" --config "$DEMO_DIR/coordinator.conf" --max-pages 10000 >"$DEMO_DIR/buyer.key"
  chmod 600 "$DEMO_DIR/buyer.key"
fi
BUYER_KEY="$(cat "$DEMO_DIR/buyer.key")"

meadow_say "the buyer submits a crawl of the demo site, with raw captures, through the buyer API"
JOB_ID="$(curl -fsS -X POST "http://127.0.0.1:$PORT/v1/jobs" \
  -H "Authorization: Bearer $BUYER_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"demo","scope":"site","max_depth":3,"max_pages":100,"site_rate":20,"captures":true,
       "urls":["http://127.0.0.1:'"$SITE_PORT"'/"]}' | sed -n 's/^{"id":\([0-9]*\).*/\1/p')"
echo "job $JOB_ID"

for name in alice bob; do
  meadow_say "starting meadow-node '$name'"
  "$NODE" run --coordinator "http://127.0.0.1:$PORT" --account "$name" --name "$name" \
    --data-dir "$DEMO_DIR/node-$name" --allow-loopback --set host_interval_ms=100 \
    --set fetch_timeout_ms=5000 --set max_page_bytes=2MB 2>>"$DEMO_DIR/node-$name.log" &
  pids+=($!)
done

meadow_say "waiting for the job to finish and its dataset to be sealed"
for _ in $(seq 1 600); do
  curl -fsS -H "Authorization: Bearer $BUYER_KEY" "http://127.0.0.1:$PORT/v1/datasets/$JOB_ID" 2>/dev/null |
    grep -q '"job_state":"done"' && {
    view="$(curl -fsS -H "Authorization: Bearer $BUYER_KEY" "http://127.0.0.1:$PORT/v1/datasets/$JOB_ID")"
    records="$(echo "$view" | sed -n 's/.*"records":\([0-9]*\).*/\1/p')"
    sealed="$(echo "$view" | sed -n 's/.*"sealed_records":\([0-9]*\).*/\1/p')"
    [ -n "$records" ] && [ "$records" = "$sealed" ] && break
  }
  sleep 0.5
done
"$BIN" job list --config "$DEMO_DIR/coordinator.conf"
for name in alice bob; do
  meadow_say "meadow-node '$name'"
  "$NODE" status --data-dir "$DEMO_DIR/node-$name" || true
done
meadow_say "the last fetches of 'alice' (every fetch is in this log)"
"$NODE" log --data-dir "$DEMO_DIR/node-alice" --limit 12

meadow_say "the buyer downloads dataset $JOB_ID and verifies it (client/python/meadow_buyer.py)"
python3 "$MEADOW_ROOT/client/python/meadow_buyer.py" --api "http://127.0.0.1:$PORT" --key "$BUYER_KEY" \
  download "$JOB_ID" --out "$DEMO_DIR/dataset-$JOB_ID" --force

cat >&2 <<INFO

The network is running, and dataset $JOB_ID is in $DEMO_DIR/dataset-$JOB_ID. Fetch it yourself:
  export MEADOW_KEY=\$(cat $DEMO_DIR/buyer.key)
  curl -s -H "Authorization: Bearer \$MEADOW_KEY" http://127.0.0.1:$PORT/v1/datasets
  curl -s -H "Authorization: Bearer \$MEADOW_KEY" http://127.0.0.1:$PORT/v1/datasets/$JOB_ID/manifest.json
  curl -s -H "Authorization: Bearer \$MEADOW_KEY" -O http://127.0.0.1:$PORT/v1/datasets/$JOB_ID/shards/records-00000.jsonl.zst
  zstd -dc records-00000.jsonl.zst | head -c 600
  zstd -dc $DEMO_DIR/dataset-$JOB_ID/captures-00000.warc.zst | head -c 1500   # the raw exchanges, WARC 1.1
  python3 $MEADOW_ROOT/client/python/meadow_buyer.py --api http://127.0.0.1:$PORT records $JOB_ID --since 0
Also try:
  $NODE log --data-dir $DEMO_DIR/node-bob --csv
  $NODE pause --data-dir $DEMO_DIR/node-bob --for 10m
  $NODE extract --url http://127.0.0.1:$SITE_PORT/articles/1.html $MEADOW_ROOT/tests/demo_site/pages/articles/1.html
  $BIN job show $JOB_ID --config $DEMO_DIR/coordinator.conf
  curl -s http://127.0.0.1:$PORT/v1/info
  curl -s http://127.0.0.1:$PORT/metrics
  curl -s -H "Authorization: Bearer \$(cat $DEMO_DIR/admin.key)" http://127.0.0.1:$PORT/v1/admin/jobs
  $BIN job list --config $DEMO_DIR/coordinator.conf
Logs: $DEMO_DIR/*.log. Ctrl-C stops it.
INFO

if [ -n "${MEADOW_DEMO_SECONDS:-}" ]; then
  sleep "$MEADOW_DEMO_SECONDS"
else
  wait
fi
