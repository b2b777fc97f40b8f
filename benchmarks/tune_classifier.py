"""Choose SFNEClassifier's defaults by cross-validation on training rows only.

For each data set of ``classification.py``, the training part of split 0
(never its test rows) is cut into 3 stratified folds; each candidate setting
is scored by its mean out-of-fold log loss (with ``--max-rows``, on a
stratified sample of those rows). The table prints each
candidate's log loss per data set and its mean rank across them.

Run: python benchmarks/tune_classifier.py [--datasets ...] [--candidates NAME ...]
[--max-rows N]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split

from _common import ranks
from classification import DATASETS, load
from sfne_sklearn import SFNEClassifier

CANDIDATES = {
    "current": {},
    # The learning rate before the "plateau" default.
    "constant": {"learning_rate_schedule": "constant"},
    # The float type before dtype="auto" (which trains in float32 above 64 rows).
    "float64": {"dtype": "float64"},
    "no splines": {"spline_knots": None},
    "12 knots": {"spline_knots": 12},
    "16 knots": {"spline_knots": 16},
    # An ensemble of members sharing the block (TabM-mini).
    "4 members": {"n_members": 4},
    "8 members": {"n_members": 8},
    "auto members": {"n_members": "auto"},
    "lr 1e-3": {"optimizer__learning_rate": 1e-3},
    "adamw": {"optimizer": "adamw"},
    "small": {"hidden_dim": 32, "slow_network_units": 64},
    "patience 10": {"n_iter_no_change": 10},
    "batch 64": {"batch_size": 64},
    "batch 512": {"batch_size": 512},
    "lr 1e-2": {"optimizer__learning_rate": 1e-2},
    "1 layer": {"num_layers": 1},
    "wide": {"hidden_dim": 128},
    # The defaults before dropout="auto", and dropout at every size.
    "no dropout": {"dropout": 0.0},
    "dropout 0.2": {"dropout": 0.2},
}


def main(datasets, candidates, max_rows):
    table = {}
    for dataset in datasets:
        X_train, _, y_train, _ = load(dataset, 0)
        if len(y_train) > max_rows:
            X_train, _, y_train, _ = train_test_split(
                X_train, y_train, train_size=max_rows, stratify=y_train, random_state=0
            )
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
        for name in candidates:
            model = SFNEClassifier(random_state=0, **CANDIDATES[name])
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cv = cross_validate(model, X_train, y_train, cv=folds, scoring="neg_log_loss")
            loss = -float(np.mean(cv["test_score"]))
            table[dataset, name] = loss
            print(f"{dataset:9s} {name:14s} CV log loss={loss:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    ranked = ranks(lambda d, n: -table[d, n], datasets, candidates)  # lower loss is better
    print("\n| candidate | " + " | ".join(datasets) + " | mean rank |")
    print("|---|" + "---:|" * (len(datasets) + 1))
    for name in candidates:
        cells = " | ".join(f"{table[d, name]:.4f}" for d in datasets)
        print(f"| {name} | {cells} | {np.mean(ranked[name]):.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES),
                        choices=list(CANDIDATES))
    parser.add_argument("--max-rows", type=int, default=100_000,
                        help="at most this many training rows (a stratified sample)")
    args = parser.parse_args()
    main(args.datasets, args.candidates, args.max_rows)
