#!/usr/bin/env python3
"""Plain TF-IDF baseline on fixtures/history/ (see scripts/gen_history.py).

    python3 scripts/history_baseline.py [DIR]

Text = title + summary + root_cause + resolution; lower-cased alphanumeric unigrams, raw term counts,
smoothed idf = ln((1 + N) / (1 + df)) + 1, L2-normalised, cosine similarity. No stop words, no field
weights, no bigrams. Prints precision@5:
  - by incident: leave-one-out, the top 5 *other* incidents, share with the same label;
  - by query: queries.json against all incidents (idf from the incidents only).
The labels are read only here, to score.

For reference, two stronger variants follow (not the baseline; what a better method may reach):
  better-1: stop words, sublinear tf (1 + ln tf), summary weighted 1.5, unigrams;
  better-2: better-1, title also weighted 1.5, and the tokens of service names dropped (the names are
            the `service` values of the history itself). Service names are the strongest confounder
            in this fixture: every kind spans several services and every service several kinds.
Standard library only.
"""
import json
import math
import os
import re
import sys
from collections import Counter

K = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fixtures", "history")

STOP = set("""a an and are as at be been before but by for from had has have in into is it its of on or
our so that the their then there these they this to was we were which while with after all any
can could did do does not no were up out off over under again about than too very just also
each every one only own same some such into when where who why how what got get keeps keep
anyone seen someone since""".split())


def tokens(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def load():
    with open(os.path.join(DIR, "incidents.jsonl"), encoding="utf-8") as f:
        incidents = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(DIR, "labels.json"), encoding="utf-8") as f:
        labels = json.load(f)
    with open(os.path.join(DIR, "queries.json"), encoding="utf-8") as f:
        queries = json.load(f)
    return incidents, labels, queries


def plain_terms(inc):
    text = " ".join(inc.get(k) or "" for k in ("title", "summary", "root_cause", "resolution"))
    return Counter(tokens(text))


def plain_query(text):
    return Counter(tokens(text))


def make_better(stop, weights):
    def toks(text):
        return [t for t in tokens(text) if t not in stop]

    def doc_terms(inc):
        c = Counter()
        for field, w in weights.items():
            for t, n in Counter(toks(inc.get(field) or "")).items():
                c[t] += w * (1 + math.log(n))
        return c

    def query_terms(text):
        return Counter({t: 1 + math.log(n) for t, n in Counter(toks(text)).items()})

    return doc_terms, query_terms


def vectorise(docs, idf):
    out = []
    for d in docs:
        v = {t: n * idf.get(t, 0.0) for t, n in d.items() if t in idf}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        out.append({t: x / norm for t, x in v.items()})
    return out


def cosine(a, b):
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def evaluate(incidents, labels, queries, doc_terms, query_terms):
    docs = [doc_terms(i) for i in incidents]
    n = len(docs)
    df = Counter(t for d in docs for t in d)
    idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
    vecs = vectorise(docs, idf)
    ids = [i["id"] for i in incidents]

    hits = 0
    per_kind = Counter()
    for i, v in enumerate(vecs):
        scores = sorted(((cosine(v, w), ids[j]) for j, w in enumerate(vecs) if j != i),
                        key=lambda x: (-x[0], x[1]))[:K]
        h = sum(labels[j] == labels[ids[i]] for _, j in scores)
        hits += h
        per_kind[labels[ids[i]]] += h
    by_incident = hits / (K * n)

    qhits = 0
    qkind = Counter()
    for q in queries:
        qv = vectorise([query_terms(q["text"])], idf)[0]
        scores = sorted(((cosine(qv, w), ids[j]) for j, w in enumerate(vecs)),
                        key=lambda x: (-x[0], x[1]))[:K]
        h = sum(labels[j] == q["kind"] for _, j in scores)
        qhits += h
        qkind[q["kind"]] += h
    by_query = qhits / (K * len(queries))
    sizes = Counter(labels.values())
    return by_incident, by_query, {k: per_kind[k] / (K * sizes[k]) for k in sorted(sizes)}, \
        {k: qkind[k] / (K * 5) for k in sorted(sizes)}


def main():
    incidents, labels, queries = load()
    kinds = Counter(labels.values())
    print("%d incidents, %d kinds, %d queries; precision@%d" % (len(incidents), len(kinds), len(queries), K))
    services = set()
    for inc in incidents:
        services.update(tokens(inc["service"]))
    services -= {"api"}  # also an ordinary word
    runs = [
        ("baseline", "plain tf-idf, unigrams, all fields equal", plain_terms, plain_query),
        ("better-1", "stop words, sublinear tf, summary x1.5",
         *make_better(STOP, {"title": 1, "summary": 1.5, "root_cause": 1, "resolution": 1})),
        ("better-2", "better-1 + title x1.5, service-name tokens dropped",
         *make_better(STOP | services, {"title": 1.5, "summary": 1.5, "root_cause": 1, "resolution": 1})),
    ]
    results = []
    for name, what, d, q in runs:
        r = evaluate(incidents, labels, queries, d, q)
        results.append(r)
        print("%-9s by incident %.3f, by query %.3f   (%s)" % (name + ":", r[0], r[1], what))
    print()
    print("%-24s %4s  %s" % ("kind", "n", "  ".join("%-8s inc/q" % name for name, *_ in runs)))
    for k in sorted(kinds):
        print("%-24s %4d  %s" % (k, kinds[k], "  ".join("%.3f/%.3f   " % (r[2][k], r[3][k]) for r in results)))


if __name__ == "__main__":
    main()
