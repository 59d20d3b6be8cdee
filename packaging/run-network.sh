#!/usr/bin/env bash
# The README's network command: builds, starts a coordinator on SQLite in ./meadow-demo,
# makes an admin key, adds a demo job and shows the queue. Ctrl-C stops everything.
# MEADOW_DEMO_SECONDS=N stops it by itself after N seconds.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

meadow_install_packages
meadow_build OFF

DEMO_DIR="${MEADOW_DEMO_DIR:-$MEADOW_ROOT/meadow-demo}"
PORT="${MEADOW_DEMO_PORT:-8480}"
BIN="$MEADOW_BUILD/coordinator/meadow-coordinator"
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

meadow_say "adding a demo job through the admin API"
curl -fsS -X POST "http://127.0.0.1:$PORT/v1/admin/jobs" \
  -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"demo","scope":"site","max_depth":2,"max_pages":50,"site_rate":5,
       "urls":["http://127.0.0.1:8481/","http://127.0.0.1:8481/articles/1.html"]}'
echo

meadow_say "the queue"
curl -fsS "http://127.0.0.1:$PORT/v1/admin/queue" -H "Authorization: Bearer $ADMIN_KEY"
echo
"$BIN" job list --config "$DEMO_DIR/coordinator.conf"

cat >&2 <<INFO

The coordinator is running. Try:
  curl -s http://127.0.0.1:$PORT/v1/info
  curl -s http://127.0.0.1:$PORT/metrics
  curl -s -H "Authorization: Bearer \$(cat $DEMO_DIR/admin.key)" http://127.0.0.1:$PORT/v1/admin/jobs
  $BIN job list --config $DEMO_DIR/coordinator.conf
Logs: $DEMO_DIR/coordinator.log. Ctrl-C stops it.
INFO

if [ -n "${MEADOW_DEMO_SECONDS:-}" ]; then
  sleep "$MEADOW_DEMO_SECONDS"
else
  wait
fi
