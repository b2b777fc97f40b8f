"""Memory of a long-running process that fits many estimators in a row.

Fits ``--fits`` small SFNERegressors one after the other in one process (each
on a fresh mixed-dtype DataFrame, followed by a predict, the previous
estimator dropped) and prints the resident memory as it goes. The figure
that matters is the growth of the peak RSS after the first few fits, when
TensorFlow's and Keras's one-off start-up allocations are done::

    python benchmarks/memory_fits.py --fits 100

Linux and macOS only (it reads ``resource.getrusage``).
"""

import argparse
import gc
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

from sfne_sklearn import SFNERegressor


def peak_rss_mb():
    """Peak resident set size of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


def data(seed, n_samples=200):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n_samples),
            "b": rng.normal(size=n_samples),
            "colour": rng.choice(["red", "green", "blue"], size=n_samples),
        }
    )
    frame.loc[::7, "a"] = np.nan
    y = np.nan_to_num(frame["a"].to_numpy()) - frame["b"] + (frame["colour"] == "red")
    return frame, y.to_numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5, help="fits before the baseline")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits

    start = time.perf_counter()
    baseline = None
    for i in range(1, args.fits + 1):
        X, y = data(seed=i)
        est = SFNERegressor(
            hidden_dim=16,
            slow_network_units=16,
            slow_network_layers=2,
            num_layers=1,
            epochs=args.epochs,
            random_state=i,
        )
        est.fit(X, y).predict(X)
        del est
        gc.collect()
        if i == args.warmup:
            baseline = peak_rss_mb()
        if i == 1 or i % 10 == 0 or i == args.warmup:
            print(
                f"fit {i:4d}: peak RSS {peak_rss_mb():8.1f} MB  ({time.perf_counter() - start:6.1f} s)"
            )
    final = peak_rss_mb()
    print(
        f"peak RSS after fit {args.warmup}: {baseline:.1f} MB; after fit {args.fits}: "
        f"{final:.1f} MB; growth {final - baseline:.1f} MB "
        f"({(final - baseline) / (args.fits - args.warmup):.2f} MB per fit)"
    )


if __name__ == "__main__":
    main()
