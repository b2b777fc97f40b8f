"""Measure SFNERegressor's candidate defaults by cross-validation on training rows only.

For each data set of ``regression.py``, the training part of split 0 (never
its test rows; at most ``--max-rows`` of them, drawn at random, so that
diamonds and CPS1988 stay affordable) is cut into 3 folds; each candidate
setting is scored by its mean out-of-fold R² and its mean fit seconds. The
table prints both per data set and each candidate's mean rank across them.

Run: python benchmarks/tune_regressor.py [--datasets ...] [--candidates NAME ...]
[--max-rows 10000]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    QuantileTransformer,
    SplineTransformer,
)

from _common import REGRESSION_DATA, load, ranks
from sfne_sklearn import SFNERegressor
from sfne_sklearn.preprocessing._columns import (
    _categorical_pipeline,
    _numeric_pipeline,
    split_columns,
)


def plateau():
    import keras

    # Halve the step size when the validation loss stalls for 5 epochs: early
    # stopping (patience 20) then ends a fit that has fine-tuned at a lower rate.
    return {"callbacks": [keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=5, min_lr=1e-5)]}


def numeric_as(X, numeric_pipeline, more=()):
    """The "auto" ColumnTransformer with another pipeline for the numeric columns.

    ``more``: further ``(name, transformer, columns)`` between the numeric
    and the categorical columns.
    """
    numeric, categorical = split_columns(X)
    transformers = [("num", numeric_pipeline, numeric), *more]
    if categorical:
        transformers.append(("cat", _categorical_pipeline(), categorical))
    return {"preprocessor": ColumnTransformer(transformers, sparse_threshold=0.0)}


def quantile(X):
    return numeric_as(X, make_pipeline(
        SimpleImputer(add_indicator=True),
        QuantileTransformer(output_distribution="normal", n_quantiles=256, random_state=0),
    ))


def embedded(encoder):
    """The scaled numeric columns next to a per-column encoding of them.

    Piecewise encodings of numeric features (Gorishniy et al., 2022) let a
    network place thresholds the way trees do; the parameter count stays
    linear in the number of features. These are built with scikit-learn in
    front of the network, in place of the block's own splines.
    """
    return lambda X: {
        **numeric_as(X, make_pipeline(_numeric_pipeline(False), make_union("passthrough", encoder))),
        "spline_knots": None,
    }


def smooth_clip(X):
    """RealMLP's smooth clipping, ``x / sqrt(1 + (x / 3)^2)``, after the scaling:
    every scaled column stays within ±3, an outlier near its edge."""
    return X / np.sqrt(1 + (X / 3) ** 2)


def few_values_one_hot(limit, min_frequency=None):
    """The "auto" preprocessing, plus a one-hot encoding of every numeric
    column with at most ``limit`` distinct training values (a count, an age
    in days, a size that comes in a few models): the network can then give
    each value its own level, as a tree's splits do, beside the column's
    scaled value and splines."""
    from sklearn.preprocessing import OneHotEncoder

    def params(X):
        numeric, _ = split_columns(X)
        few = [c for c in numeric if X[c].nunique() <= limit]
        levels = make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(handle_unknown="infrequent_if_exist" if min_frequency else "ignore",
                          min_frequency=min_frequency, sparse_output=False),
        )
        return numeric_as(X, _numeric_pipeline(False), [("few", levels, few)] if few else ())

    return params


def fold_rows(X):
    """The rows one fit of the 3-fold CV trains on (early stopping holds out a tenth)."""
    return int(len(X) * 2 / 3 * 0.9)


def small_steps(X):
    """The 200-row rule at every size: an explicit ``batch_size`` keeps the rate unscaled."""
    return {"batch_size": SFNERegressor()._batch_size_for(fold_rows(X))}


def large_batches(X):
    """The first round of larger steps: 1% of the rows from 20,000 on, at most
    1,024, the learning rate not scaled."""
    n = fold_rows(X)
    return {"batch_size": max(small_steps(X)["batch_size"], min(1024, -(-n // 100)))}


def member_rows(budget):
    """``n_members="auto"`` with another budget of member-rows per epoch."""

    def params(X):
        return {"n_members": max(1, min(8, budget // fold_rows(X)))}

    return params


CANDIDATES = {
    "current": lambda X: {},
    # The learning rate before the "plateau" default.
    "constant": lambda X: {"learning_rate_schedule": "constant"},
    # The float type before dtype="auto" (which trains in float32 above 64 rows).
    "float64": lambda X: {"dtype": "float64"},
    "large batches": large_batches,
    # The steps before 1% of the rows (and a rate scaled alike) from 20,000 rows on.
    "200-row steps": small_steps,
    # An ensemble of members sharing the block (TabM-mini).
    "4 members": lambda X: {"n_members": 4},
    "8 members": lambda X: {"n_members": 8},
    "16 members": lambda X: {"n_members": 16},
    "auto members": lambda X: {"n_members": "auto"},
    "member rows 32768": member_rows(32_768),
    "member rows 16384": member_rows(16_384),
    "member rows 8192": member_rows(8_192),
    # The defaults before the block's splines (spline_knots=8, knots on ±3).
    "no splines": lambda X: {"spline_knots": None},
    "4 knots": lambda X: {"spline_knots": 4},
    "16 knots": lambda X: {"spline_knots": 16},
    "12 knots": lambda X: {"spline_knots": 12},
    "one-hot <=16 values": few_values_one_hot(16),
    "one-hot <=64 values": few_values_one_hot(64),
    "one-hot <=64 values, min 20 rows": few_values_one_hot(64, 20),
    "one-hot <=64 values, min 50 rows": few_values_one_hot(64, 50),
    # The defaults before dropout="auto", and dropout at every size.
    "no dropout": lambda X: {"dropout": 0.0},
    "dropout 0.1": lambda X: {"dropout": 0.1},
    "dropout 0.2": lambda X: {"dropout": 0.2},
    "adamw": lambda X: {"optimizer": "adamw"},
    "lr 1e-3": lambda X: {"optimizer__learning_rate": 1e-3},
    "plateau": lambda X: plateau(),
    "plateau, batch 512": lambda X: {**plateau(), "batch_size": 512},
    "patience 10": lambda X: {"n_iter_no_change": 10},
    "wide": lambda X: {"hidden_dim": 128},
    "hidden 48": lambda X: {"hidden_dim": 48},
    "hidden 32": lambda X: {"hidden_dim": 32},
    "one hidden layer": lambda X: {"num_layers": 1},
    "smooth clip": lambda X: numeric_as(
        X, make_pipeline(_numeric_pipeline(False), FunctionTransformer(smooth_clip))
    ),
    "quantile inputs": lambda X: {**quantile(X), "spline_knots": None},
    # Knots evenly over each column's training range (SplineTransformer's
    # "uniform"), with early stopping always on: the first round's candidate.
    "min-max knots": lambda X: {
        **embedded(SplineTransformer(n_knots=8, degree=3, extrapolation="linear"))(X),
        "early_stopping": True,
    },
    "linear splines": embedded(SplineTransformer(n_knots=8, degree=1, extrapolation="linear")),
    "quantile bins": embedded(KBinsDiscretizer(8, encode="onehot-dense", strategy="quantile",
                                               quantile_method="averaged_inverted_cdf")),
}


def main(datasets, candidates, max_rows):
    table = {}
    for dataset in datasets:
        X_train, _, y_train, _ = load(dataset, 0)
        if len(y_train) > max_rows:
            rows = np.random.default_rng(0).choice(len(y_train), max_rows, replace=False)
            X_train, y_train = X_train.iloc[rows], y_train[rows]
        folds = KFold(3, shuffle=True, random_state=0)
        for name in candidates:
            model = SFNERegressor(random_state=0, **CANDIDATES[name](X_train))
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cv = cross_validate(model, X_train, y_train, cv=folds, scoring="r2")
            table[dataset, name] = (float(np.mean(cv["test_score"])), float(np.mean(cv["fit_time"])))
            print(f"{dataset:10s} {name:20s} CV R2={table[dataset, name][0]:.4f} "
                  f"fit={table[dataset, name][1]:.1f}s ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    ranked = ranks(lambda d, n: table[d, n][0], datasets, candidates)
    print(f"\nCV R² (3 folds of the training part of split 0, at most {max_rows} rows), "
          "mean fit seconds in brackets")
    print("\n| candidate | " + " | ".join(datasets) + " | mean rank |")
    print("|---|" + "---:|" * (len(datasets) + 1))
    for name in candidates:
        cells = " | ".join(f"{table[d, name][0]:.4f} ({table[d, name][1]:.1f})" for d in datasets)
        print(f"| {name} | {cells} | {np.mean(ranked[name]):.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(REGRESSION_DATA),
                        choices=list(REGRESSION_DATA))
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES),
                        choices=list(CANDIDATES))
    parser.add_argument("--max-rows", type=int, default=10_000)
    args = parser.parse_args()
    main(args.datasets, args.candidates, args.max_rows)
