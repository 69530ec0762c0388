#!/usr/bin/env bash
# Load test: signed PagerDuty webhooks at increasing concurrency against a release build, on SQLite
# and (when PG_URL is reachable) PostgreSQL, next to wrk's rate on /healthz in the same run.
# Prints a Markdown table for the README. Traffic goes to 127.0.0.1 only; every run is bounded.
#
#   scripts/load.sh                      # defaults: 5 s per level, levels 16 64 256
#   DURATION=10 LEVELS="32 128" scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
LEVELS=${LEVELS:-"16 64 256"}
THREADS=${THREADS:-2}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
SECRET=load-secret
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/postmortem
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Pre-signed, distinct events (wrk's Lua has no HMAC): one line per request, "signature<TAB>body".
python3 - "$WORK/bodies.tsv" "$SECRET" <<'PY'
import hashlib, hmac, json, sys
out, secret = sys.argv[1], sys.argv[2].encode()
with open(out, "w") as f:
    for i in range(300000):
        body = json.dumps({"event": {"id": f"LOAD{i:08d}", "event_type": "incident.triggered",
            "resource_type": "incident", "occurred_at": "2026-10-02T14:00:00Z", "agent": None, "client": None,
            "data": {"id": f"PLOAD{i % 5000}", "type": "incident", "status": "triggered", "title": "Load test",
                     "service": {"id": "PSVC", "type": "service_reference", "summary": "load-api"},
                     "assignees": [], "teams": [], "priority": None, "urgency": "high"}}}, separators=(",", ":"))
        sig = "v1=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
        f.write(f"{sig}\t{body}\n")
PY

cat > "$WORK/webhook.lua" <<'LUA'
-- Each thread walks its own stride of the pre-signed bodies, so no two requests repeat an event.
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  sigs, bodies = {}, {}
  for line in io.lines(os.getenv("LOAD_FILE")) do
    local sig, body = line:match("([^\t]+)\t(.*)")
    sigs[#sigs + 1] = sig
    bodies[#bodies + 1] = body
  end
  nthreads = tonumber(os.getenv("LOAD_THREADS"))
  offset = tonumber(os.getenv("LOAD_OFFSET"))
end
function request()
  local i = (offset + tid + counter * nthreads) % #bodies + 1
  counter = counter + 1
  return wrk.format("POST", "/webhooks/pagerduty",
    { ["Content-Type"] = "application/json", ["X-PagerDuty-Signature"] = sigs[i] }, bodies[i])
end
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk's summary → "req/s p99 non2xx"
summarise() {
  awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$5} END {printf "%s %s %s\n", rps, p99, (bad==""?0:bad)}'
}

run_backend() {
  local name=$1 url=$2 port offset=0
  port=$(free_port)
  DATABASE_URL=$url POSTMORTEM_LISTEN=127.0.0.1:$port PAGERDUTY_WEBHOOK_SECRETS=$SECRET \
    POSTMORTEM_DRAFT_DELAY_SECS=3600 RUST_LOG=warn "$BIN" serve &
  local pid=$!
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  read -r hz _ _ < <(wrk -t"$THREADS" -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$port/healthz" | summarise)
  for c in $LEVELS; do
    read -r rps p99 bad < <(LOAD_FILE="$WORK/bodies.tsv" LOAD_THREADS=$THREADS LOAD_OFFSET=$offset \
      wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --latency -s "$WORK/webhook.lua" "http://127.0.0.1:$port" | summarise)
    offset=$((offset + 100000))
    echo "| $name | $c | $rps | $p99 | $bad | $hz |"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "| store | connections | acknowledged events/s | p99 | non-2xx | /healthz req/s (same run) |"
echo "|---|---|---|---|---|---|"
run_backend sqlite "sqlite://$WORK/load.db"
if psql "$PG_URL" -c 'select 1' >/dev/null 2>&1; then
  psql "$PG_URL" -qc 'DROP DATABASE IF EXISTS postmortem_load' >/dev/null
  psql "$PG_URL" -qc 'CREATE DATABASE postmortem_load' >/dev/null
  run_backend postgres "${PG_URL%/*}/postmortem_load"
fi
