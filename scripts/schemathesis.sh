#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against a real `postmortem serve` on a throw-away SQLite file with
# every secret configured (so no 503 for an unset one): no 5xx and every response must match
# /openapi.json. Needs `cargo build --release` first.
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
PORT=${PORT:-18777}
export DATABASE_URL="sqlite://$TMP/st.db" POSTMORTEM_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn \
  POSTMORTEM_API_TOKEN=st-api POSTMORTEM_INGEST_TOKEN=st-ingest PAGERDUTY_WEBHOOK_SECRETS=st-pd \
  SLACK_SIGNING_SECRET=st-slack GITHUB_WEBHOOK_SECRET=st-gh POSTMORTEM_DRAFT_DELAY_SECS=0
BIN="${CARGO_TARGET_DIR:-target}/release/postmortem"
"$BIN" import fixtures/history/incidents.jsonl >/dev/null || true
"$BIN" serve & PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
# The document itself must be valid OpenAPI (openapi-spec-validator, when installed beside).
if "${PYTHON:-python3}" -c "import openapi_spec_validator" 2>/dev/null; then
  curl -sf "http://127.0.0.1:$PORT/openapi.json" > "$TMP/openapi.json"
  "${PYTHON:-python3}" -m openapi_spec_validator "$TMP/openapi.json"
fi
# The module, not a PATH lookup that pyenv may not have rehashed; PYTHON may name a venv's python.
ST="${PYTHON:-python3} -m schemathesis.cli"
$ST run "http://127.0.0.1:$PORT/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --header "Authorization: Bearer st-api" \
  --max-examples "${MAX_EXAMPLES:-30}" \
  --request-timeout 10 \
  --suppress-health-check all \
  --max-time "${MAX_TIME:-120}"
