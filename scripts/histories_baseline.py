#!/usr/bin/env python3
"""scikit-learn baselines on a labelled history that the code was not tuned on (fixtures/histories/).

    python3 -m pip install scikit-learn numpy
    python3 scripts/histories_baseline.py fixtures/histories/ride_hailing

DIR holds incidents.jsonl (import records) and labels.json (id -> kind, null for noise). Text is
title + summary + root_cause + resolution (the fields present). Noise incidents take part in
clustering and retrieval but are not scored.

  families  TfidfVectorizer(stop_words="english", sublinear_tf=True); KMeans(k, n_init=10,
            random_state=0) for k in 2..30; k with the best cosine silhouette; adjusted Rand index
            against the labelled incidents.
  similar   plain TF-IDF (lower-cased word tokens, smoothed idf, L2) cosine; for every labelled
            incident, the share of its 5 nearest other incidents with the same label (precision@5).
Deterministic; no network.
"""
import json
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.metrics.pairwise import cosine_similarity

d = sys.argv[1]
recs = [json.loads(line) for line in open(d + "/incidents.jsonl") if line.strip()]
lab = {k: v for k, v in json.load(open(d + "/labels.json")).items() if v}


def text(r):
    return " ".join(str(r.get(f) or "") for f in ["title", "summary", "root_cause", "resolution"])


texts = [text(r) for r in recs]
ids = [r["id"] for r in recs]
scored = [i for i, x in enumerate(ids) if x in lab]

X = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts)
best = None
for k in range(2, 31):
    km = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=0).fit(X)
    s = silhouette_score(X, km.labels_, metric="cosine")
    if best is None or s > best[0]:
        best = (s, k, km.labels_)
_, k, labels = best
ari = adjusted_rand_score([lab[ids[i]] for i in scored], [labels[i] for i in scored])

P = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b").fit_transform(texts)
S = cosine_similarity(P)
np.fill_diagonal(S, -1)
p5 = [sum(lab.get(ids[j]) == lab[ids[i]] for j in np.argsort(-S[i])[:5]) / 5 for i in scored]
print(json.dumps({"set": d, "kinds": len(set(lab.values())), "chosen_k": k, "ari": round(ari, 3),
                  "precision_at_5_plain_tfidf": round(float(np.mean(p5)), 3)}))
