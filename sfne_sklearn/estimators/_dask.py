"""Dask collections in and out: lazy predictions, one partition at a time.

Dask is optional (the base install has NumPy, pandas and scikit-learn
only): nothing here imports it. A dask collection is recognised by the
module of its type, and handled through its own methods
(``map_partitions``, ``map_blocks``, ``rechunk``), so that predicting on a
dask DataFrame or Array builds a task graph and computes nothing.
"""

import functools

import numpy as np
import pandas as pd


def is_dask_collection(X):
    """True for a dask DataFrame, Series or Array, without importing dask."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "__dask_graph__")


def is_dask_dataframe(X):
    return is_dask_collection(X) and hasattr(X, "columns") and hasattr(X, "map_partitions")


def _as_pandas(out, index):
    """One partition's predictions as a Series (1-D) or DataFrame (2-D) on ``index``."""
    if out.ndim == 1:
        return pd.Series(out, index=index)
    return pd.DataFrame(out, index=index, columns=pd.RangeIndex(out.shape[1]))


def _on_partition(method, part):
    return _as_pandas(method(part), part.index)


def map_lazily(method, X, name):
    """``method`` (an in-memory prediction) applied lazily to each part of ``X``.

    A dask DataFrame gives a dask Series (1-D predictions) or DataFrame
    (2-D, columns ``0..k-1``) with the partitions and index of ``X``; a 2-D
    dask Array gives a dask Array with the row chunks of ``X``. The output's
    dtype and width are found by predicting on dask's two-row stand-in of a
    partition (``_meta_nonempty``), or on one row of zeros for an array.
    """
    if is_dask_dataframe(X):
        sample = X._meta_nonempty
        meta = _as_pandas(method(sample), sample.index).iloc[:0]
        return X.map_partitions(functools.partial(_on_partition, method), meta=meta)
    if not hasattr(X, "map_blocks") or getattr(X, "ndim", None) != 2:
        raise ValueError(
            f"{name} takes a dask DataFrame or a 2-D dask Array; got a "
            f"{type(X).__module__.split('.')[0]}.{type(X).__name__}"
            f"{'' if getattr(X, 'ndim', None) is None else f' with ndim={X.ndim}'}. "
            "Convert it with .to_dask_array() or .to_frame()."
        )
    # Every block must hold whole rows: the features are one chunk wide.
    X = X.rechunk({1: -1})
    out = method(np.zeros((1, X.shape[1]), dtype=X.dtype))
    meta = np.empty((0,) * out.ndim, dtype=out.dtype)
    if out.ndim == 1:
        return X.map_blocks(method, drop_axis=1, dtype=out.dtype, meta=meta)
    return X.map_blocks(
        method, chunks=(X.chunks[0], (out.shape[1],)), dtype=out.dtype, meta=meta
    )


def lazy_on_dask(method):
    """Let a prediction method take a dask collection and return a lazy one.

    In-memory inputs go to ``method`` unchanged.
    """

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if is_dask_collection(X):
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(self)
            bound = functools.partial(method, self, *args, **kwargs)
            return map_lazily(bound, X, f"{type(self).__name__}.{method.__name__}")
        return method(self, X, *args, **kwargs)

    return wrapper
