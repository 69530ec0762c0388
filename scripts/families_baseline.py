#!/usr/bin/env python3
"""scikit-learn baseline for `postmortem families`: TF-IDF + k-means, k chosen by silhouette.

    python3 -m pip install scikit-learn numpy
    python3 scripts/families_baseline.py [--history DIR] [--out FILE]

What it measures: how well the textbook scikit-learn recipe recovers the twelve incident kinds of the
labelled history (fixtures/history/, see its README.md) without being told how many there are. This
is the baseline our Rust `families` has to beat.

  text      title + summary + root_cause + resolution, the fields present (empty or null ones are
            left out), joined by a space; the same fields as scripts/history_baseline.py. Action
            items, changes, tags and service are not used.
  vectors   TfidfVectorizer(stop_words="english", sublinear_tf=True); every other setting is
            scikit-learn's default: lower-cased, token_pattern r"(?u)\\b\\w\\w+\\b" (tokens of 2+
            word characters), unigrams, smoothed idf, L2-normalised rows, no min_df/max_df.
  clusters  KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=0) on the sparse TF-IDF
            matrix (Euclidean on unit vectors), for every k in 2..=30.
  choose k  the k with the highest silhouette_score(X, labels, metric="cosine") on the same TF-IDF
            matrix (all points, no sampling); on a tie the smallest k.
  score     adjusted_rand_score(labels.json kinds, chosen clustering), and for reference the ARI of
            the k=12 clustering (the true number of kinds). The labels are read only to score.

Prints a table (silhouette and ARI per k) and writes a JSON summary (default
fixtures/history/families_baseline.json):
  {"method", "k_range": [2, 30], "chosen_k", "ari", "ari_at_true_k", "silhouette": {"2": ..},
   "sklearn_version"}
Scores are rounded to 6 decimals. Deterministic: fixed random_state, no sampling; no network.
"""
import argparse
import json
import os
import sys

import sklearn
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, silhouette_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ("title", "summary", "root_cause", "resolution")
K_MIN, K_MAX = 2, 30
TRUE_K = 12
N_INIT = 10
SEED = 0

METHOD = (
    "TfidfVectorizer(stop_words='english', sublinear_tf=True, other settings default) over "
    "title + summary + root_cause + resolution (fields present, space-joined); "
    "KMeans(init='k-means++', n_init=10, random_state=0) for k in 2..=30 on the L2-normalised "
    "sparse TF-IDF matrix; k chosen by the highest silhouette_score(metric='cosine') on the TF-IDF "
    "matrix (smallest k on a tie); ARI = adjusted_rand_score against labels.json"
)


def load(history):
    with open(os.path.join(history, "incidents.jsonl"), encoding="utf-8") as f:
        incidents = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(history, "labels.json"), encoding="utf-8") as f:
        labels = json.load(f)
    missing = [i["id"] for i in incidents if i["id"] not in labels]
    if missing:
        sys.exit("no label for %d incidents, e.g. %s" % (len(missing), missing[0]))
    return incidents, labels


def text(incident):
    return " ".join(incident[f] for f in FIELDS if incident.get(f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--history", default=os.path.join(ROOT, "fixtures", "history"),
                    help="directory with incidents.jsonl and labels.json (default: %(default)s)")
    ap.add_argument("--out", default=None,
                    help="JSON summary to write (default: HISTORY/families_baseline.json)")
    args = ap.parse_args()
    out = args.out or os.path.join(args.history, "families_baseline.json")

    incidents, labels = load(args.history)
    truth = [labels[i["id"]] for i in incidents]
    n_kinds = len(set(truth))

    X = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
        [text(i) for i in incidents])
    print("%d incidents, %d kinds, %d TF-IDF terms; scikit-learn %s"
          % (X.shape[0], n_kinds, X.shape[1], sklearn.__version__))

    silhouette, ari = {}, {}
    for k in range(K_MIN, K_MAX + 1):
        km = KMeans(n_clusters=k, init="k-means++", n_init=N_INIT, random_state=SEED).fit(X)
        silhouette[k] = float(silhouette_score(X, km.labels_, metric="cosine"))
        ari[k] = float(adjusted_rand_score(truth, km.labels_))

    best = max(silhouette.values())
    chosen = min(k for k, s in silhouette.items() if s == best)

    print()
    print("%4s  %10s  %7s" % ("k", "silhouette", "ARI"))
    for k in range(K_MIN, K_MAX + 1):
        mark = []
        if k == chosen:
            mark.append("chosen (max silhouette)")
        if k == TRUE_K:
            mark.append("true k")
        print(("%4d  %10.4f  %7.4f  %s" % (k, silhouette[k], ari[k], ", ".join(mark))).rstrip())
    print()
    print("chosen k = %d (silhouette %.4f): ARI %.4f;  ARI at true k = %d: %.4f"
          % (chosen, silhouette[chosen], ari[chosen], TRUE_K, ari[TRUE_K]))

    summary = {
        "method": METHOD,
        "k_range": [K_MIN, K_MAX],
        "chosen_k": chosen,
        "ari": round(ari[chosen], 6),
        "ari_at_true_k": round(ari[TRUE_K], 6),
        "silhouette": {str(k): round(s, 6) for k, s in silhouette.items()},
        "sklearn_version": sklearn.__version__,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
