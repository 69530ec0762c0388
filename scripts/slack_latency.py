#!/usr/bin/env python3
"""Latency of the signed `/postmortem similar` slash command, end to end over HTTP.

Starts `postmortem serve` on a throw-away SQLite file with the labelled history imported, sends
N signed commands (half by incident id, half free text) one after another, and prints p50/p99/max.

    cargo build --release && python3 scripts/slack_latency.py [N]
"""
import hashlib, hmac, json, os, subprocess, sys, tempfile, time, urllib.parse, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 400
BIN = os.path.join(os.path.dirname(__file__), "..", "target", "release", "postmortem")
HISTORY = os.path.join(os.path.dirname(__file__), "..", "fixtures", "history", "incidents.jsonl")
SECRET = "latency-secret"

tmp = tempfile.mkdtemp()
env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/slack.db", SLACK_SIGNING_SECRET=SECRET,
           POSTMORTEM_LISTEN="127.0.0.1:18931", RUST_LOG="warn")
subprocess.run([BIN, "import", HISTORY], env=env, check=True, stdout=subprocess.DEVNULL)
server = subprocess.Popen([BIN, "serve"], env=env)
try:
    for _ in range(100):
        try:
            urllib.request.urlopen("http://127.0.0.1:18931/healthz", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    queries = ["H-0042", "db connections maxed out after deploy", "H-0300", "certs expiring between services"]
    times = []
    for i in range(N):
        body = urllib.parse.urlencode({"command": "/postmortem", "text": f"similar {queries[i % 4]}",
                                       "channel_id": "C1", "user_id": "U1", "response_url": ""}).encode()
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        req = urllib.request.Request("http://127.0.0.1:18931/webhooks/slack/commands", data=body, headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": ts, "x-slack-signature": sig})
        t = time.perf_counter()
        answer = json.load(urllib.request.urlopen(req, timeout=5))
        times.append((time.perf_counter() - t) * 1000)
        assert answer["response_type"] == "ephemeral", answer
    times.sort()
    p = lambda q: times[min(len(times) - 1, max(0, int(q * len(times) + 0.999999) - 1))]
    print(f"{N} signed /postmortem similar commands over 480 incidents: "
          f"p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {times[-1]:.1f} ms")
finally:
    server.terminate()
    server.wait()
