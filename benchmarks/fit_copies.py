"""How many copies of ``X`` an in-memory fit holds at its peak.

Fits an SFNERegressor for one epoch on a float64 array (default 1,000,000
rows x 50 columns, 400 MB) in a fresh process and reports the growth of the
peak resident memory during the fit divided by ``X.nbytes``. A warm-up fit
on a few rows first takes TensorFlow's and Keras's one-off allocations out
of the figure::

    python benchmarks/fit_copies.py --rows 1000000 --cols 50

Linux only (reads ``resource.getrusage``).
"""

import argparse
import resource
import time
import warnings

import numpy as np

from sfne_sklearn import SFNERegressor


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=50)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    params = dict(hidden_dim=8, num_layers=1, slow_network_layers=1, slow_network_units=8,
                  epochs=1, batch_size=4096, random_state=0)
    rng = np.random.default_rng(0)
    small = rng.normal(size=(1000, args.cols))
    SFNERegressor(**params).fit(small, small[:, 0])
    X = rng.normal(size=(args.rows, args.cols))
    y = X[:, 0] - X[:, 1]
    before = peak_rss()
    start = time.perf_counter()
    SFNERegressor(**params).fit(X, y)
    seconds = time.perf_counter() - start
    growth = peak_rss() - before
    print(
        f"rows={args.rows} cols={args.cols} X={X.nbytes / 1e6:.0f} MB "
        f"peak RSS growth={growth / 1e6:.0f} MB copies={growth / X.nbytes:.2f} "
        f"fit={seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
