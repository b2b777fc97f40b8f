"""Training overhead and scaling of SFNERegressor (serving: serving.py).

Every comparison is measured side by side in this one run and printed as a
ratio. Run: python benchmarks/speed.py [--quick]
Writes docs/benchmarks_speed.md.
"""

import argparse
import resource
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from _common import load, machine
from sfne_sklearn import SFNEBlock, SFNERegressor

DOCS = Path(__file__).resolve().parent.parent / "docs"
LINES = []


def report(text):
    print(text, flush=True)
    LINES.append(text)


def training_overhead(epochs):
    report("## Training overhead against raw Keras fit (same model, epochs, batch)\n")
    X_train, _, y_train, _ = load("concrete")
    # The same model as the raw Keras fit below: one network, in float64.
    est = SFNERegressor(random_state=0, epochs=epochs, early_stopping=False, tol=0.0,
                        n_iter_no_change=10**6, n_members=1, dtype="float64")
    batch = est._batch_size_for(len(X_train))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X_train, y_train)
        ours = time.perf_counter() - start
    features = est.preprocessor_.transform(X_train)
    target = ((y_train - y_train.mean()) / y_train.std())[:, None]
    keras.utils.set_random_seed(0)
    keras.backend.set_floatx("float64")
    start = time.perf_counter()
    # A fresh block of the fitted one's architecture (splines included).
    model = SFNEBlock.from_config(est.model_.get_config())
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(features, target, epochs=epochs, batch_size=batch, verbose=0)
    raw = time.perf_counter() - start
    keras.backend.set_floatx("float32")
    report(f"- concrete, {epochs} epochs, batch {batch}: SFNERegressor.fit {ours:.2f} s "
           f"(preprocessing included) vs raw Keras fit {raw:.2f} s -> ratio = "
           f"**{ours / raw:.3f}** (target <= 1.05)\n")


def scaling(widths):
    report("## Parameters and time per epoch against the number of features\n")
    report("| features | sfne_sklearn params | s/epoch | kerasfactory params | s/epoch |")
    report("|---:|---:|---:|---:|---:|")
    try:
        from kerasfactory.models import SFNEBlock as Reference
        from loguru import logger

        logger.remove()  # kerasfactory logs every layer call at DEBUG level
    except ImportError:
        Reference = None
    rng = np.random.RandomState(0)
    for width in widths:
        # 1,000 rows, batch 200: one warm-up epoch, then one timed epoch.
        X = rng.normal(size=(1000, width)).astype("float32")
        y = rng.normal(size=(1000, 1)).astype("float32")
        cells = []
        for cls in (SFNEBlock, Reference):
            if cls is None:
                cells += ["n/a", "n/a"]
                continue
            model = cls(input_dim=width, output_dim=1)
            model.compile(optimizer="adam", loss="mse")
            model.fit(X, y, epochs=1, batch_size=200, verbose=0)  # build and trace
            start = time.perf_counter()
            model.fit(X, y, epochs=1, batch_size=200, verbose=0)
            cells += [f"{model.count_params():,}", f"{time.perf_counter() - start:.3f}"]
        report(f"| {width} | " + " | ".join(cells) + " |")
    report("")


def one_million_rows(n_rows):
    report(f"## Fitting {n_rows:,} rows x 50 float features\n")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_rows, 50))
    y = X[:, 0] - 0.5 * X[:, 1] ** 2
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    est = SFNERegressor(random_state=0, epochs=1, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(f"- X is {X.nbytes / 2**20:.0f} MiB; one epoch took {seconds:.1f} s; peak RSS "
           f"{peak:.0f} MiB (before fit {before:.0f} MiB, growth {peak - before:.0f} MiB = "
           f"{(peak - before) / (X.nbytes / 2**20):.2f} x X)\n")


def main(quick):
    report(f"Measured on: {machine()}\n")
    training_overhead(epochs=5 if quick else 30)
    # Before the scaling runs: kerasfactory's 128M-parameter model would set
    # the process's peak RSS (a high-water mark) above this fit's.
    one_million_rows(100_000 if quick else 1_000_000)
    scaling([10, 100] if quick else [10, 100, 1000])
    (DOCS / "benchmarks_speed.md").write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    main(parser.parse_args().quick)
