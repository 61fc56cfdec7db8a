"""HMP parse speed: PrecomputedFeatureLoader against plain-Python and pandas baselines.

Writes ``--files`` HMP files (one line of ``--nonzero`` sparse ``bin:value``
pairs, 1-based bins, dimension 6,075, BOM + CRLF like the real ones) into a
temporary folder, then parses them all with each method in the same process
(every loader run uses a new loader, whose parsed-file cache is off by
default). Also times ``fit_transform`` (each file parsed once) against
``fit`` then ``transform``, and a warm ``cache_size=64`` loader. Prints JSON
with files/s and ratios against the baselines.

    python benchmarks/bench_parsing.py --files 2000 --nonzero 2000
"""

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skmem import PrecomputedFeatureLoader

DIM = 6075


def write_files(folder, n_files, nonzero, seed=0):
    rng = np.random.default_rng(seed)
    (folder / "HMP").mkdir()
    for n in range(1, n_files + 1):
        bins = np.sort(rng.choice(DIM, size=nonzero, replace=False)) + 1
        values = rng.random(nonzero)
        line = " ".join(f"{b}:{v:.6f}" for b, v in zip(bins, values))
        (folder / "HMP" / f"video{n}.txt").write_bytes(("\ufeff" + line + "\r\n").encode())
    return [f"video{n}" for n in range(1, n_files + 1)]


def naive_loop(folder, ids):
    """What a user writes by hand: split tokens, then a Python loop per pair."""
    out = np.zeros((len(ids), DIM), dtype=np.float32)
    for row, name in enumerate(ids):
        with open(folder / "HMP" / f"{name}.txt", encoding="utf-8-sig") as fh:
            for token in fh.read().split():
                key, value = token.split(":")
                out[row, int(key) - 1] = float(value)
    return out


def pandas_reader(folder, ids):
    """pandas' C tokenizer on ``bin:value`` pairs, one pair per row."""
    out = np.zeros((len(ids), DIM), dtype=np.float32)
    for row, name in enumerate(ids):
        with open(folder / "HMP" / f"{name}.txt", encoding="utf-8-sig") as fh:
            pairs = io.StringIO(fh.read().strip().replace(" ", "\n"))
        table = pd.read_csv(pairs, sep=":", header=None, dtype={0: np.int64, 1: np.float64})
        out[row, table[0].to_numpy() - 1] = table[1].to_numpy()
    return out


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--nonzero", type=int, default=2000, help="sparse pairs per file")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2, help="workers for the parallel run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ids = write_files(folder, args.files, args.nonzero)

        def loader(n_jobs=None):
            return PrecomputedFeatureLoader("HMP", folder, n_jobs=n_jobs).fit(ids[:1]).transform(ids)

        t_loader, X = best_of(loader, args.repeats)
        t_naive, X_naive = best_of(lambda: naive_loop(folder, ids), args.repeats)
        t_pandas, X_pandas = best_of(lambda: pandas_reader(folder, ids), args.repeats)
        assert np.array_equal(X, X_naive) and np.array_equal(X, X_pandas)
        loader(args.n_jobs)  # start the worker processes once
        t_parallel, X_par = best_of(lambda: loader(args.n_jobs), args.repeats)
        assert np.array_equal(X, X_par)
        t_fit_transform, X_ft = best_of(
            lambda: PrecomputedFeatureLoader("HMP", folder).fit_transform(ids), args.repeats
        )
        t_fit_then_transform, _ = best_of(
            lambda: PrecomputedFeatureLoader("HMP", folder).fit(ids).transform(ids), args.repeats
        )
        assert np.array_equal(X, X_ft)
        cached_loader = PrecomputedFeatureLoader("HMP", folder, cache_size=64).fit(ids[:200])
        t_cached, _ = best_of(lambda: cached_loader.transform(ids[:200]), args.repeats)
        hits = cached_loader.cache_info().hits

    report = {
        "benchmark": "HMP parse (6,075-d sparse, 1-based)",
        "files": args.files,
        "pairs_per_file": args.nonzero,
        "cpu_count": os.cpu_count(),
        "seconds": {
            "loader": round(t_loader, 4),
            f"loader_n_jobs_{args.n_jobs}": round(t_parallel, 4),
            "naive_python_loop": round(t_naive, 4),
            "pandas_read_csv": round(t_pandas, 4),
            "fit_transform": round(t_fit_transform, 4),
            "fit_then_transform": round(t_fit_then_transform, 4),
        },
        "files_per_s": {
            "loader": round(args.files / t_loader, 1),
            f"loader_n_jobs_{args.n_jobs}": round(args.files / t_parallel, 1),
            "naive_python_loop": round(args.files / t_naive, 1),
            "pandas_read_csv": round(args.files / t_pandas, 1),
            "loader_cached_200_files": round(min(args.files, 200) / t_cached, 1),
        },
        "speedup_vs_naive": round(t_naive / t_loader, 2),
        "speedup_vs_pandas": round(t_pandas / t_loader, 2),
        "parallel_speedup": round(t_loader / t_parallel, 2),
        "fit_transform_speedup_vs_fit_then_transform": round(t_fit_then_transform / t_fit_transform, 2),
        "cache_hits_of_the_cached_loader": hits,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
