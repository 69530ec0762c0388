#!/usr/bin/env python3
"""Generates fixtures/metrics/payments-api.om: the payments-api incident's metrics in OpenMetrics,
for `promtool tsdb create-blocks-from openmetrics` (series in ascending time, a final # EOF).

30 s samples, 2026-10-02 12:00-16:30 UTC. Errors are 0.1 % until 14:40, 12 % until the rollback
takes effect at 15:25, then 0.1 % again; latency and CPU follow. Deterministic (seeded)."""
import random

random.seed(7)
START = 1790942400  # 2026-10-02T12:00:00Z
STEP = 30


def at(h, m):
    return START + (h - 12) * 3600 + m * 60


END, ONSET, RECOVER = at(16, 30), at(14, 40), at(15, 25)
BUCKETS = ["0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
NORMAL = [0.80, 0.93, 0.98, 0.995, 0.999, 1.0, 1.0, 1.0]  # cumulative shares
BAD = [0.55, 0.62, 0.66, 0.70, 0.74, 0.80, 0.86, 1.0]

ok = err = hsum = cpu = 0.0
hist = [0.0] * len(BUCKETS)
rows = {k: [] for k in ["ok", "err", "sum", "count", "cpu"]}
hrows = [[] for _ in BUCKETS]
t = START
while t <= END:
    bad = ONSET <= t < RECOVER
    ratio = 0.12 if bad else 0.001
    n = 100.0 * STEP * (1 + random.uniform(-0.05, 0.05))
    err += n * ratio * (1 + random.uniform(-0.1, 0.1))
    ok += n * (1 - ratio)
    for i, share in enumerate(BAD if bad else NORMAL):
        hist[i] += n * share
    hsum += n * (1.8 if bad else 0.06)
    cpu += STEP * (0.85 if bad else 0.35) * (1 + random.uniform(-0.05, 0.05))
    rows["ok"].append((t, ok))
    rows["err"].append((t, err))
    for i in range(len(BUCKETS)):
        hrows[i].append((t, hist[i]))
    rows["sum"].append((t, hsum))
    rows["count"].append((t, hist[-1]))
    rows["cpu"].append((t, cpu))
    t += STEP

L = '{service="payments-api"'
out = ["# TYPE http_requests counter", "# HELP http_requests Requests served."]
out += [f'http_requests_total{L},code="200"}} {v:.1f} {t}' for t, v in rows["ok"]]
out += [f'http_requests_total{L},code="500"}} {v:.1f} {t}' for t, v in rows["err"]]
out += ["# TYPE http_request_duration_seconds histogram", "# HELP http_request_duration_seconds Request latency."]
for i, b in enumerate(BUCKETS):
    out += [f'http_request_duration_seconds_bucket{L},le="{b}"}} {v:.1f} {t}' for t, v in hrows[i]]
out += [f'http_request_duration_seconds_sum{L}}} {v:.3f} {t}' for t, v in rows["sum"]]
out += [f'http_request_duration_seconds_count{L}}} {v:.1f} {t}' for t, v in rows["count"]]
out += ["# TYPE process_cpu_seconds counter", "# HELP process_cpu_seconds CPU time."]
out += [f'process_cpu_seconds_total{L}}} {v:.3f} {t}' for t, v in rows["cpu"]]
out.append("# EOF")
with open("fixtures/metrics/payments-api.om", "w") as f:
    f.write("\n".join(out) + "\n")
