#!/usr/bin/env bash
# Starts a local Prometheus over the payments-api fixture metrics, for the demo:
#   scripts/prometheus-fixture.sh &            # prints the URL, serves until stopped
#   PROMETHEUS_URL=http://127.0.0.1:9091 cargo run --release -- demo
# Needs Debian's prometheus package (prometheus, promtool). Listens on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-9091}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
promtool tsdb create-blocks-from openmetrics fixtures/metrics/payments-api.om "$DIR/data" >/dev/null
printf 'global:\n  scrape_interval: 1h\n' > "$DIR/prometheus.yml"
echo "PROMETHEUS_URL=http://127.0.0.1:$PORT" >&2
# The fixture's blocks are old: a long retention keeps Prometheus from deleting them at start.
exec prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$PORT" --log.level=warn
