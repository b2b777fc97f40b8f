"""Out-of-core training on a Parquet data set read with dask.

Writes a Parquet data set under ``--path`` (not in the repository; default
``/tmp/sfne_out_of_core``): ``--rows`` rows of 18 float32 columns, two
categorical columns and a float32 target, in files of ``--rows-per-file``
rows (one dask partition each). Then, each in a fresh process:

- ``SFNERegressor.fit`` on ``dask.dataframe.read_parquet(path)`` for one
  epoch (statistics from dask reductions, then partitions streamed): rows,
  partitions, peak RSS growth over the process's state before the fit (a
  warm-up fit on a few rows has taken TensorFlow's one-off allocations),
  seconds and rows/s;
- the same estimator fitted in memory on the first ``--in-memory-rows``
  rows (pandas), for the rows/s beside it.

::

    python benchmarks/out_of_core.py --rows 20000000      # the issue's 20M rows, ~1.6 GB
    python benchmarks/out_of_core.py --rows 2000000       # a smaller run

Linux only (reads ``resource.getrusage``). Not a test: it takes minutes.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

N_FLOAT = 18
PARAMS = dict(
    hidden_dim=32, num_layers=1, slow_network_layers=2, slow_network_units=32,
    epochs=1, batch_size=1024, random_state=0,
)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write(path, rows, rows_per_file):
    os.makedirs(path, exist_ok=True)
    for old in os.listdir(path):
        os.remove(os.path.join(path, old))
    weights = np.random.default_rng(1).normal(size=N_FLOAT).astype(np.float32)
    for k, start in enumerate(range(0, rows, rows_per_file)):
        n = min(rows_per_file, rows - start)
        rng = np.random.default_rng([0, k])
        floats = rng.normal(size=(n, N_FLOAT)).astype(np.float32)
        frame = pd.DataFrame(floats, columns=[f"x{j}" for j in range(N_FLOAT)])
        frame["city"] = pd.Categorical(rng.choice(["a", "b", "c", "d", "e"], size=n))
        frame["tier"] = pd.Categorical(rng.choice(["gold", "silver", "bronze"], size=n))
        frame["target"] = (
            floats @ weights + np.sin(floats[:, 0]) * 2 + (frame["city"] == "a") * 1.5
        ).astype(np.float32)
        frame.to_parquet(os.path.join(path, f"part-{k:05d}.parquet"), index=False)


def run_fit(path, mode, in_memory_rows):
    import dask
    import dask.dataframe as dd

    from sfne_sklearn import SFNERegressor

    warnings.simplefilter("ignore")
    small = pd.read_parquet(os.path.join(path, "part-00000.parquet")).head(2000)
    SFNERegressor(**PARAMS).fit(small.drop(columns="target"), small["target"])
    if mode == "dask":
        ddf = dd.read_parquet(path)
        X, y = ddf.drop(columns="target"), ddf["target"]
        rows, partitions = None, ddf.npartitions
    else:
        # Only the files that hold the first rows: reading more would set the
        # process's peak memory before the fit and hide the fit's own growth.
        parts, n = [], 0
        for name in sorted(os.listdir(path)):
            if n >= in_memory_rows:
                break
            parts.append(pd.read_parquet(os.path.join(path, name)))
            n += len(parts[-1])
        frame = pd.concat(parts, ignore_index=True).head(in_memory_rows)
        del parts
        X, y = frame.drop(columns="target"), frame["target"].to_numpy()
        rows, partitions = len(frame), 1
    before = peak_rss_mb()
    start = time.perf_counter()
    with dask.config.set(scheduler="synchronous"):
        reg = SFNERegressor(**PARAMS).fit(X, y)
    seconds = time.perf_counter() - start
    if rows is None:
        rows = int(ddf.map_partitions(len).sum().compute())
    sample = pd.read_parquet(os.path.join(path, "part-00000.parquet")).head(50_000)
    return {
        "mode": mode,
        "rows": rows,
        "partitions": partitions,
        "peak_rss_growth_mb": round(peak_rss_mb() - before, 1),
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "r2_first_50k_rows": round(reg.score(sample.drop(columns="target"), sample["target"]), 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--rows-per-file", type=int, default=500_000)
    parser.add_argument("--in-memory-rows", type=int, default=1_000_000)
    parser.add_argument("--path", default="/tmp/sfne_out_of_core")
    parser.add_argument("--child", choices=["dask", "memory"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_fit(args.path, args.child, args.in_memory_rows)))
        return
    start = time.perf_counter()
    write(args.path, args.rows, args.rows_per_file)
    size = sum(os.path.getsize(os.path.join(args.path, f)) for f in os.listdir(args.path))
    print(f"wrote {args.rows} rows, {size / 1e9:.2f} GB of Parquet in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    for mode in ("dask", "memory"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--path", args.path,
             "--in-memory-rows", str(args.in_memory_rows)],
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
        print(out, flush=True)


if __name__ == "__main__":
    main()
