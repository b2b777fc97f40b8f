"""The ``"auto"`` preprocessor fitted on a dask collection, one partition at a time.

The preprocessor's statistics come from two passes over every partition,
each partition reduced to a few sums in its own task (so one partition is
in memory per worker thread), never from a sample:

1. row counts, per numeric column the count and sum of observed values,
   and per categorical column its categories (missing as
   ``MISSING_CATEGORY``) -> the imputer's means, which columns get a
   missing-value indicator, the one-hot categories;
2. on the imputed columns (those means filled in, indicators appended):
   the second and third central moments, the minimum, and the sums of
   ``log1p`` and its square -> which columns :class:`LogSkewed` logs, and
   the scaler's means and variances after the logs.

The fitted objects are the ones an in-memory fit builds (a ColumnTransformer
of the same pipelines, fitted first on one partition for their structure),
with these statistics written in, so prediction, ``NumericSteps`` and
``to_onnx`` read them as usual. Without sample weights: the moments are
unweighted.
"""

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer

from ._columns import category_strings, make_auto_preprocessor


def delayed_partitions(X):
    """One dask Delayed per partition (DataFrame) or row block (2-D Array)."""
    if hasattr(X, "columns"):
        return list(X.to_delayed())
    return list(X.rechunk({1: -1}).to_delayed().ravel())


def _numeric_part(part, columns):
    if columns is None:  # an array: every column
        return np.asarray(part, dtype=np.float64)
    return part[columns].to_numpy(dtype=np.float64, na_value=np.nan)


def _first_pass(part, numeric, categorical):
    values = _numeric_part(part, numeric) if numeric is None or numeric else None
    stats = {"n": len(part)}
    if values is not None:
        observed = ~np.isnan(values)
        stats["count"] = observed.sum(axis=0)
        stats["sum"] = np.where(observed, values, 0.0).sum(axis=0)
    stats["categories"] = [set(np.unique(category_strings(part[c])).tolist()) for c in categorical]
    return stats


def _second_pass(part, numeric, imputer, centre):
    z = imputer.transform(
        part[numeric] if numeric is not None else np.asarray(part, dtype=np.float64)
    ).astype(np.float64, copy=False)
    c = z - centre
    logs = np.log1p(np.maximum(z, 0))
    return {
        "m2": (c**2).sum(axis=0),
        "m3": (c**3).sum(axis=0),
        "min": z.min(axis=0) if len(z) else np.full(z.shape[1], np.inf),
        "log": logs.sum(axis=0),
        "log2": (logs**2).sum(axis=0),
    }


def _reduce(dicts, key, op=np.add):
    out = dicts[0][key]
    for d in dicts[1:]:
        out = op(out, d[key])
    return out


def fit_auto_on_dask(X, head):
    """Fit ``preprocessor="auto"`` on the dask collection ``X``.

    Parameters
    ----------
    X : dask DataFrame or 2-D dask Array
        The whole training data.
    head : pandas DataFrame or ndarray
        One computed partition of ``X``: its fit gives the structure (the
        columns' kinds, the transformers), then the statistics are replaced
        by those of all partitions.

    Returns
    -------
    preprocessor : ColumnTransformer or Pipeline
        Fitted.
    lengths : list of int
        Rows per partition.
    """
    import dask

    fitted = make_auto_preprocessor(head).fit(head)
    if isinstance(fitted, ColumnTransformer):
        named = dict((name, (trans, cols)) for name, trans, cols in fitted.transformers_)
        numeric_pipe, numeric = named.get("num", (None, []))
        cat_pipe, categorical = named.get("cat", (None, []))
        numeric, categorical = list(numeric), list(categorical)
    else:
        numeric_pipe, numeric, cat_pipe, categorical = fitted, None, None, []

    parts = delayed_partitions(X)
    first = dask.compute(*[dask.delayed(_first_pass)(p, numeric, categorical) for p in parts])
    lengths = [d["n"] for d in first]
    n = sum(lengths)

    if numeric_pipe is not None:
        imputer, log, scaler = (numeric_pipe.named_steps[k] for k in ("impute", "log", "scale"))
        count, total = _reduce(first, "count"), _reduce(first, "sum")
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        imputer.statistics_ = means
        imputer.indicator_.features_ = np.flatnonzero(count < n)
        kept = ~np.isnan(means)
        # The imputer's output: the kept columns, then one indicator per
        # column with gaps; their means are known from the first pass.
        centre = np.concatenate([means[kept], 1.0 - count[count < n] / n])
        second = dask.compute(
            *[dask.delayed(_second_pass)(p, numeric, imputer, centre) for p in parts]
        )
        var = _reduce(second, "m2") / n
        third = _reduce(second, "m3") / n
        minimum = _reduce(second, "min", np.minimum)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.where(var > 0, third / var**1.5, 0.0)
        log.log_columns_ = np.flatnonzero((skew > log.threshold) & (minimum >= 0))
        log.n_features_in_ = len(centre)
        logged = np.zeros(len(centre), dtype=bool)
        logged[log.log_columns_] = True
        log_mean = _reduce(second, "log") / n
        log_var = np.maximum(_reduce(second, "log2") / n - log_mean**2, 0.0)
        mean = np.where(logged, log_mean, centre)
        var = np.where(logged, log_var, var)
        scaler.mean_, scaler.var_ = mean, var
        scaler.scale_ = _scale(var, mean, n)
        scaler.n_samples_seen_ = n
        scaler.n_features_in_ = len(centre)

    if cat_pipe is not None:
        categories = [
            sorted(set().union(*(d["categories"][j] for d in first)))
            for j in range(len(categorical))
        ]
        # The encoder refitted on every category: its categories_ are theirs.
        width = max(len(c) for c in categories)
        table = np.empty((width, len(categories)), dtype=object)
        for j, cats in enumerate(categories):
            table[:, j] = cats + [cats[-1]] * (width - len(cats))
        cat_pipe.named_steps["onehot"].fit(table)

    if isinstance(fitted, ColumnTransformer):
        # Output slices of each transformer, for get_feature_names_out.
        widths = [
            np.empty((0, len(trans.get_feature_names_out())))
            for name, trans, _ in fitted.transformers_
            if name in ("num", "cat")
        ]
        fitted._record_output_indices(widths)
    return fitted, lengths


def partition_frame(part):
    """A computed partition as pandas or NumPy, as ``fit`` takes it."""
    return part if isinstance(part, (pd.DataFrame, np.ndarray)) else np.asarray(part)


def _scale(var, mean, n_samples):
    """StandardScaler's ``scale_`` from the variances: 1 for constant columns.

    A column counts as constant where its variance is within the rounding
    error of the mean and variance computation, as StandardScaler decides.
    """
    eps = np.finfo(np.float64).eps
    constant = var <= n_samples * eps * var + (n_samples * mean * eps) ** 2
    scale = np.sqrt(var)
    scale[constant | (scale < 10 * eps)] = 1.0
    return scale
