#!/usr/bin/env python3
"""scikit-learn counterpart of our Rust k-means benchmark: same vectors, same settings, time and inertia.

    python3 -m pip install scikit-learn numpy
    python3 scripts/families_sklearn_bench.py DIR [--repeats 3]

DIR holds what the Rust benchmark wrote:
  vectors.npy  an n x d float64 or float32 array, C order, .npy format v1.0 (read with numpy.load,
               allow_pickle=False; other dtypes are refused);
  meta.json    {"k", "n_init", "max_iter", "tol", "seed", "threads", and optionally "inertia",
               "seconds": our own result}.

What it measures: KMeans(n_clusters=k, init="k-means++", n_init=n_init, max_iter=max_iter, tol=tol,
algorithm="lloyd", random_state=seed).fit(vectors), run `--repeats` times (default 3) on `threads`
threads: OMP_NUM_THREADS (and the BLAS thread variables) are set from meta.json before numpy and
scikit-learn are imported, and every fit runs inside threadpoolctl.threadpool_limits(threads).
The time is the wall-clock time of fit() alone (time.perf_counter), loading excluded; it includes
scikit-learn's own input checks and, for dense input, its centring copy of the data. All repeats use
the same random_state, so they compute the same clustering; the inertia reported is sklearn's
`inertia_`: the sum of squared Euclidean distances of the points to their closest centroid, for
the best of the n_init runs, computed in the array's dtype.

Points to match in the Rust code for the comparison to be fair (scikit-learn's semantics):
  - tol is relative: the absolute threshold is tol * mean(per-feature variance of the data), compared
    with the squared Frobenius norm of the centre shift between two iterations (<= stops); a run also
    stops as soon as no point changes cluster;
  - k-means++ is the greedy variant: 2 + floor(ln k) candidate centres per step, the best kept;
  - n_init full runs, the one with the lowest inertia kept; no sample weights.

Prints one JSON object on stdout:
  {"n", "d", "k", "n_init", "max_iter", "threads", "sklearn_seconds_best", "sklearn_seconds_median",
   "sklearn_inertia", "ours_seconds", "ours_inertia", "inertia_ratio_ours_over_sklearn"}
ours_* and the ratio are null when meta.json has no inertia/seconds. A line with the scikit-learn
version, dtype and every repeat's time goes to stderr. No network.

A synthetic DIR for trying it out (100000 x 64 float64 blobs, 20 centres):

    python3 -c 'import json, os, numpy as np; r = np.random.default_rng(0); d = "/tmp/km";
    os.makedirs(d, exist_ok=True); c = r.normal(0, 10, (20, 64));
    x = c[r.integers(0, 20, 100000)] + r.normal(0, 1, (100000, 64)); np.save(d + "/vectors.npy", x);
    json.dump(dict(k=20, n_init=3, max_iter=100, tol=1e-4, seed=0, threads=1), open(d + "/meta.json", "w"))'
    python3 scripts/families_sklearn_bench.py /tmp/km
"""
import argparse
import json
import os
import statistics
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
REQUIRED = ("k", "n_init", "max_iter", "tol", "seed", "threads")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", metavar="DIR", help="directory with vectors.npy and meta.json")
    ap.add_argument("--repeats", type=int, default=3, help="fits to time (default: %(default)s)")
    args = ap.parse_args()
    if args.repeats < 1:
        sys.exit("--repeats must be at least 1")

    with open(os.path.join(args.dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        sys.exit("meta.json lacks %s" % ", ".join(missing))
    threads = int(meta["threads"])
    if threads < 1:
        sys.exit("meta.json: threads must be at least 1")

    # Before numpy/scikit-learn are imported: OpenMP and BLAS read these once, at load time.
    for var in THREAD_VARS:
        os.environ[var] = str(threads)

    import numpy as np
    import sklearn
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    x = np.load(os.path.join(args.dir, "vectors.npy"), allow_pickle=False)
    if x.ndim != 2 or x.dtype not in (np.float32, np.float64):
        sys.exit("vectors.npy: expected a 2-d float32/float64 array, got %s %s" % (x.dtype, x.shape))
    if not x.flags.c_contiguous:
        print("warning: vectors.npy is not C order; scikit-learn will copy it", file=sys.stderr)
    n, d = x.shape

    seconds, inertias = [], []
    with threadpool_limits(limits=threads):
        for _ in range(args.repeats):
            km = KMeans(n_clusters=int(meta["k"]), init="k-means++", n_init=int(meta["n_init"]),
                        max_iter=int(meta["max_iter"]), tol=float(meta["tol"]), algorithm="lloyd",
                        random_state=int(meta["seed"]))
            t0 = time.perf_counter()
            km.fit(x)
            seconds.append(time.perf_counter() - t0)
            inertias.append(float(km.inertia_))
    if len(set(inertias)) > 1:
        print("warning: inertia differs between repeats: %s" % inertias, file=sys.stderr)
    inertia = inertias[0]

    ours_inertia = meta.get("inertia")
    ours_seconds = meta.get("seconds")
    print("scikit-learn %s, numpy %s, %s, %d thread(s); fit seconds: %s; iterations (last fit): %d"
          % (sklearn.__version__, np.__version__, x.dtype, threads,
             ", ".join("%.3f" % s for s in seconds), km.n_iter_), file=sys.stderr)
    print(json.dumps({
        "n": n,
        "d": d,
        "k": int(meta["k"]),
        "n_init": int(meta["n_init"]),
        "max_iter": int(meta["max_iter"]),
        "threads": threads,
        "sklearn_seconds_best": min(seconds),
        "sklearn_seconds_median": statistics.median(seconds),
        "sklearn_inertia": inertia,
        "ours_seconds": None if ours_seconds is None else float(ours_seconds),
        "ours_inertia": None if ours_inertia is None else float(ours_inertia),
        "inertia_ratio_ours_over_sklearn":
            None if ours_inertia is None or inertia == 0 else float(ours_inertia) / inertia,
    }, indent=2))


if __name__ == "__main__":
    main()
