"""Accuracy and speed of SFNERegressor against the models a user would pick instead.

Each model is fitted on the same 80/20 split (random_state=0) of each data
set and reports test R2, fit seconds and the median latency of predicting one
row. The tabular baselines and kerasfactory's SFNEBlock get the very same
ColumnTransformer that SFNERegressor builds internally.

Run: python benchmarks/accuracy.py [--datasets concrete penguins diamonds]
Writes docs/benchmarks_accuracy.md and docs/benchmarks_accuracy.png.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _common import DATASETS, column_transformer, load, machine, median_seconds
from sfne_sklearn import SFNERegressor

DOCS = Path(__file__).resolve().parent.parent / "docs"


class KerasFactorySFNE:
    """kerasfactory 0.1.1's SFNEBlock, trained as its documentation shows.

    Adam(1e-3) and MSE on the preprocessed features, batch size 32 as in
    the spec's example; the target is standardised (as SFNERegressor does)
    so that both see the same problem. The example's 10 epochs under-fit the
    small data sets, so it gets up to 100 with Keras early stopping (10% held
    out, patience 10, best weights restored) instead.
    """

    def __init__(self, epochs=100, batch_size=32):
        self.epochs = epochs
        self.batch_size = batch_size

    def fit(self, X, y):
        import keras
        from kerasfactory.models import SFNEBlock as ReferenceBlock
        from loguru import logger

        logger.remove()  # kerasfactory logs every layer call at DEBUG level

        keras.utils.set_random_seed(0)
        self.pre_ = column_transformer(X).fit(X)
        Xt = self.pre_.transform(X).astype("float32")
        self.mean_, self.scale_ = y.mean(), y.std()
        self.model_ = ReferenceBlock(input_dim=Xt.shape[1], output_dim=1)
        self.model_.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
        self.model_.fit(
            Xt, ((y - self.mean_) / self.scale_).astype("float32"),
            epochs=self.epochs, batch_size=self.batch_size, verbose=0, validation_split=0.1,
            callbacks=[keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)],
        )
        return self

    def predict(self, X):
        Xt = self.pre_.transform(X).astype("float32")
        return self.model_.predict(Xt, verbose=0).ravel() * self.scale_ + self.mean_


def models(X):
    yield "SFNERegressor (default)", SFNERegressor(random_state=0)
    yield "Ridge", make_pipeline(column_transformer(X), Ridge())
    yield "HistGradientBoosting", make_pipeline(
        column_transformer(X), HistGradientBoostingRegressor(random_state=0)
    )
    # MLPRegressor does not scale the target; SFNERegressor and the
    # reference do, so it gets the same standardised target.
    yield "MLPRegressor", TransformedTargetRegressor(
        make_pipeline(column_transformer(X), MLPRegressor(random_state=0)),
        transformer=StandardScaler(),
    )
    try:
        import kerasfactory  # noqa: F401
    except ImportError:
        print("kerasfactory is not installed: skipping it (make bench installs it)")
    else:
        yield "kerasfactory SFNEBlock 0.1.1", KerasFactorySFNE()


def r2(y, pred):
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


def main(datasets):
    rows = []
    for dataset in datasets:
        X_train, X_test, y_train, y_test = load(dataset)
        for name, model in models(X_train):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X_train, y_train)
                fit_s = time.perf_counter() - start
            score = r2(y_test, model.predict(X_test))
            row = X_test.iloc[:1]
            latency_ms = 1e3 * median_seconds(lambda: model.predict(row), repeat=50)
            rows.append((dataset, name, score, fit_s, latency_ms))
            print(f"{dataset:9s} {name:30s} R2={score:.4f} fit={fit_s:7.1f}s "
                  f"predict(1 row)={latency_ms:7.2f}ms", flush=True)
    write_report(rows)


def write_report(rows):
    lines = [
        "| data set | model | test R² | fit (s) | predict 1 row (ms) |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [f"| {d} | {m} | {s:.4f} | {f:.1f} | {lat:.2f} |" for d, m, s, f, lat in rows]
    text = "\n".join(lines) + f"\n\nMeasured on: {machine()}\n"
    (DOCS / "benchmarks_accuracy.md").write_text(text)
    print(text)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    datasets = list(dict.fromkeys(r[0] for r in rows))
    names = list(dict.fromkeys(r[1] for r in rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        scores = [next((r[2] for r in rows if r[0] == d and r[1] == name), np.nan) for d in datasets]
        ax.bar(np.arange(len(datasets)) + i * width, scores, width, label=name)
    ax.set_xticks(np.arange(len(datasets)) + 0.4 - width / 2, datasets)
    ax.set_ylabel("test R²")
    # R² from 0: bars starting at 0.5 exaggerate differences. The legend
    # goes outside the axes, where it covers no bar.
    ax.set_ylim(0.0, 1.0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Test R² on one 80/20 split (random_state=0)")
    fig.tight_layout()
    fig.savefig(DOCS / "benchmarks_accuracy.png", dpi=120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    main(parser.parse_args().datasets)
