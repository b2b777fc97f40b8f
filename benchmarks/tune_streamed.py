"""Measure settings of a fit on dask collections (streamed) by cross-validation on training rows.

The training part of split 0 of one ``regression.py`` data set (never its
test rows) is cut into 3 folds; each fold's training rows become a dask
DataFrame of ``--partitions`` partitions, which ``SFNERegressor.fit``
streams (``estimators/_out_of_core.py``), and the fold's other rows score
it. Candidates: the constant learning rate (streamed fits before they
followed ``learning_rate_schedule``), the default (the plateau schedule),
and the default with the larger steps of an in-memory fit on as many rows
(``BaseSFNE._steps_for``: batch size and learning rate given explicitly).

Run: python benchmarks/tune_streamed.py [--dataset diamonds] [--partitions 8]
"""

import argparse
import time
import warnings

import dask.dataframe as dd
import numpy as np
import pandas as pd
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

from _common import REGRESSION_DATA, load
from sfne_sklearn import SFNERegressor


def larger_steps(n_rows):
    """An in-memory fit's steps on ``n_rows`` (a tenth held out), given explicitly."""
    model = SFNERegressor()
    batch_size, rate = model._steps_for(n_rows - round(model.validation_fraction * n_rows))
    return {"batch_size": batch_size, "optimizer__learning_rate": rate}


CANDIDATES = {
    "constant rate (before)": lambda n_rows: {"learning_rate_schedule": "constant"},
    "plateau schedule (the default)": lambda n_rows: {},
    "plateau schedule, larger steps": larger_steps,
}


def main(dataset, partitions):
    X, _, y, _ = load(dataset, 0)
    X = X.reset_index(drop=True)
    scores = {name: [] for name in CANDIDATES}
    folds = KFold(3, shuffle=True, random_state=0)
    for fold, (train, test) in enumerate(folds.split(X)):
        X_dask = dd.from_pandas(X.iloc[train].reset_index(drop=True), npartitions=partitions)
        y_dask = dd.from_pandas(pd.Series(y[train]), npartitions=partitions)
        for name, params in CANDIDATES.items():
            model = SFNERegressor(random_state=0, **params(len(train)))
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X_dask, y_dask)
            seconds = time.perf_counter() - start
            r2 = r2_score(y[test], model.predict(X.iloc[test]))
            scores[name].append((r2, seconds, model.n_iter_))
            print(f"fold {fold} {name:32s} R2={r2:.5f} fit={seconds:.1f}s "
                  f"epochs={model.n_iter_}", flush=True)
    first = np.array([s[0] for s in scores["constant rate (before)"]])
    print(f"\n{dataset}: CV R² over 3 folds of split 0's training rows, each fold's "
          f"training rows in {partitions} dask partitions")
    print("\n| candidate | CV R² | paired vs constant rate | fit s | epochs |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in scores.items():
        r2, seconds, epochs = np.array(rows).T
        diff = r2 - first
        print(f"| {name} | {r2.mean():.5f} | {diff.mean():+.5f} ± {diff.std():.5f} | "
              f"{seconds.mean():.1f} | {epochs.mean():.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="diamonds", choices=list(REGRESSION_DATA))
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    main(args.dataset, args.partitions)
