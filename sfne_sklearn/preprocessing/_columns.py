"""The internal preprocessor that turns raw tables into network features."""

import warnings

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import (
    _check_sample_weight,
    assert_all_finite,
    check_is_fitted,
    validate_data,
)

from .._arrays import aligned_empty, column_blocks, row_blocks

MISSING_CATEGORY = "__missing__"


def is_dataframe(X):
    """True for pandas DataFrames (the only frames we build columns for)."""
    return isinstance(X, pd.DataFrame)


def to_pandas(X):
    """Another library's dataframe (polars, pyarrow, ...) as a pandas DataFrame.

    Through the Arrow C stream where pandas reads it (pandas 3), else the
    dataframe interchange protocol; column types map as Arrow maps them
    (strings, categoricals and enums, booleans, nulls). Anything else is
    returned as it is.
    """
    if isinstance(X, pd.DataFrame) or not hasattr(X, "shape"):
        return X
    try:
        if hasattr(X, "__arrow_c_stream__") and hasattr(pd.DataFrame, "from_arrow"):
            return pd.DataFrame.from_arrow(X)
        if hasattr(X, "__dataframe__"):
            return pd.api.interchange.from_dataframe(X, allow_copy=True)
    except ImportError as exc:
        raise ImportError(
            f"pandas needs pyarrow to read a {type(X).__module__.split('.')[0]}."
            f"{type(X).__name__}: pip install pyarrow (or sfne-sklearn[polars])."
        ) from exc
    return X


def category_strings(column):
    """One categorical column as Python strings, missing values as ``MISSING_CATEGORY``.

    Object columns may mix numbers, strings, ``None``, ``pd.NA`` and
    booleans; each value becomes its ``str``. The estimators' one-hot
    encoding and :class:`~sfne_sklearn.DataAnalyzer`'s model inputs both
    read categories through this function, so both see the same ones.

    Parameters
    ----------
    column : pandas.Series
        The column.

    Returns
    -------
    numpy.ndarray of object
        Python ``str`` values, of shape ``(len(column),)``.

    Examples
    --------
    >>> category_strings(pd.Series(["a", None, 1, True], dtype=object)).tolist()
    ['a', '__missing__', '1', 'True']
    """
    missing = column.isna().to_numpy()
    values = column.astype(object).to_numpy()
    return np.where(missing, MISSING_CATEGORY, values.astype(str)).astype(object)


def _as_category_strings(X):
    """Cast categorical columns to strings, with one token for missing values.

    OneHotEncoder needs each column to be uniformly strings.
    """
    frame = pd.DataFrame(X)
    out = np.empty(frame.shape, dtype=object)
    for j, (_, column) in enumerate(frame.items()):
        out[:, j] = category_strings(column)
    return out


class LogSkewed(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """``log1p`` of the non-negative columns whose skewness exceeds a bound.

    Heavy right tails (ages, counts, amounts) squeeze most rows into a
    sliver of the scaled range, which trees ignore but networks learn
    slowly. The skewness is weighted, so a weight of k counts as k copies
    of a row; missing values are ignored and stay missing.

    Parameters
    ----------
    threshold : float, default=2.0
        Columns with a sample skewness above this are log-transformed.
    copy : bool, default=True
        False transforms float arrays in place (inside our own pipeline,
        after the imputer has made the one copy of the user's data).
    """

    def __init__(self, threshold=2.0, copy=True):
        self.threshold = threshold
        self.copy = copy

    def fit(self, X, y=None, sample_weight=None):
        X = validate_data(self, X, dtype=(np.float64, np.float32), ensure_all_finite="allow-nan")
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
        # A few columns at a time: the temporaries below are the size of
        # the block, not five more copies of X.
        skew = np.zeros(X.shape[1])
        non_negative = np.ones(X.shape[1], dtype=bool)
        for block in column_blocks(X.shape):
            skew[block], non_negative[block] = self._block_skew(X[:, block], weights)
        self.log_columns_ = np.flatnonzero((skew > self.threshold) & non_negative)
        return self

    @staticmethod
    def _block_skew(X, weights):
        """Weighted skewness and non-negativity of the columns of ``X``."""
        observed = ~np.isnan(X) & (weights[:, None] > 0)
        w = np.where(observed, weights[:, None], 0.0)
        total = np.maximum(w.sum(axis=0), np.finfo(float).tiny)
        values = np.where(observed, X, 0.0)
        mean = (w * values).sum(axis=0) / total
        centred = np.where(observed, values - mean, 0.0)
        var = (w * centred**2).sum(axis=0) / total
        third = (w * centred**3).sum(axis=0) / total
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.where(var > 0, third / var**1.5, 0.0)
        return skew, np.all(np.where(observed, values >= 0, True), axis=0)

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            dtype=(np.float64, np.float32),
            ensure_all_finite="allow-nan",
            reset=False,
            copy=self.copy and self.log_columns_.size > 0,
        )
        if self.log_columns_.size:
            cols = self.log_columns_
            # Values below zero at predict time are clipped: log1p needs > -1.
            X[:, cols] = np.log1p(np.maximum(X[:, cols], 0))
        return X


def impute(X, fill, kept, indicator, *, aligned=False):
    """Gaps in ``X``'s kept columns filled, then one 0/1 column per ``indicator`` column.

    The one new array of the imputation step, written a block of columns at
    a time; ``SimpleImputer`` fills a copy of ``X`` and then stacks its
    indicators onto a second one. ``aligned``: in memory that TensorFlow can
    share, where a fit's training rows will stay (see training._arrays).
    """
    shape = (X.shape[0], kept.size + indicator.size)
    out = aligned_empty(shape, X.dtype) if aligned else np.empty(shape, dtype=X.dtype)
    filled, flags = out[:, : kept.size], out[:, kept.size :]
    for block in column_blocks(filled.shape):
        values = X[:, kept[block]]
        filled[:, block] = np.where(np.isnan(values), fill[block], values)
    for block in column_blocks(flags.shape):
        np.isnan(X[:, indicator[block]], out=flags[:, block])
    return out


class MeanImputer(SimpleImputer):
    """``SimpleImputer(strategy="mean", add_indicator=True)`` that makes one copy of ``X``.

    Fitted as ``SimpleImputer``; its ``transform`` writes the imputed columns
    and the indicators into one new array (:func:`impute`), the same values
    as ``SimpleImputer.transform``.
    """

    def __init__(self):
        super().__init__(strategy="mean", add_indicator=True)

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(
            self, X, dtype=(np.float64, np.float32), ensure_all_finite="allow-nan", reset=False
        )
        # Columns never observed at fit time are dropped, as SimpleImputer does.
        empty = np.isnan(self.statistics_)
        if empty.any():
            names = getattr(self, "feature_names_in_", np.arange(len(empty)))
            warnings.warn(
                f"Skipping features without any observed values: {names[empty]}. At least "
                "one non-missing value is needed for imputation with strategy='mean'."
            )
        kept = np.flatnonzero(~empty)
        return impute(X, self.statistics_[kept], kept, self.indicator_.features_, aligned=True)


class BlockScaler(StandardScaler):
    """``StandardScaler`` fitted a block of rows at a time (``partial_fit``).

    ``StandardScaler.fit`` holds a NaN-free copy of ``X`` and its deviations
    from the mean at once, two more copies of the training data; the blocks'
    moments combine into the same means and variances, with temporaries the
    size of a block. Fitted on arrays (the imputer's output).
    """

    def fit(self, X, y=None, sample_weight=None):
        X = validate_data(self, X, dtype=(np.float64, np.float32), ensure_all_finite="allow-nan")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        for name in ("n_samples_seen_", "mean_", "var_", "scale_"):
            vars(self).pop(name, None)  # a refit starts afresh, as fit does
        for block in row_blocks(X.shape):
            weights = None if sample_weight is None else sample_weight[block]
            self.partial_fit(X[block], sample_weight=weights)
        return self


def _numeric_pipeline(sample_weighted):
    # Mean imputation with a missing-value indicator (the one copy of X),
    # log of heavy right tails and standard scaling, both in place. The
    # weighted steps honour sample weights (through metadata routing) so
    # that weighting rows is equivalent to repeating them. (A log of a 0/1
    # indicator column is undone by the scaling: harmless.)
    log, scaler = LogSkewed(copy=False), BlockScaler(copy=False)
    if sample_weighted:
        log.set_fit_request(sample_weight=True)
        scaler.set_fit_request(sample_weight=True)
    return Pipeline([("impute", MeanImputer()), ("log", log), ("scale", scaler)])


class NumericSteps:
    """A fitted numeric pipeline (impute, log, scale) as arrays, applied in NumPy.

    ``Pipeline.transform`` validates its input again at each of its three
    steps: about 1 ms for one row, ten times the network's own cost. An
    estimator predicting on an array it has validated itself applies these
    arrays instead, with the same result; :func:`sfne_sklearn.to_onnx`
    writes the same steps into its graph.

    Parameters
    ----------
    pipeline : Pipeline
        The fitted ``_numeric_pipeline``.
    """

    def __init__(self, pipeline):
        imputer, log, scaler = (pipeline.named_steps[k] for k in ("impute", "log", "scale"))
        statistics = imputer.statistics_
        # Columns without an observed value at fit time are dropped, as
        # SimpleImputer does; indicators mark the columns that had gaps.
        self.kept = np.flatnonzero(~np.isnan(statistics))
        self.fill = statistics[self.kept]
        indicator = imputer.indicator_
        self.indicator = np.empty(0, dtype=int) if indicator is None else indicator.features_
        self.log_columns = log.log_columns_
        self.mean, self.scale = scaler.mean_, scaler.scale_

    def __call__(self, X):
        """The pipeline's output for a validated float array ``X``."""
        out = impute(X, self.fill, self.kept, self.indicator)
        if self.log_columns.size:
            out[:, self.log_columns] = np.log1p(np.maximum(out[:, self.log_columns], 0))
        out -= self.mean
        out /= self.scale
        return out

    @classmethod
    def of(cls, preprocessor):
        """The steps of a fitted ``"auto"`` preprocessor made for arrays, else None."""
        steps = getattr(preprocessor, "named_steps", None)
        if steps is None or list(steps) != ["impute", "log", "scale"]:
            return None
        return cls(preprocessor)


class FrameSteps:
    """A fitted ``"auto"`` ColumnTransformer applied to a DataFrame group by group.

    ``ColumnTransformer.transform`` validates the frame again and calls each
    transformer through joblib's machinery: half of a one-row prediction.
    An estimator predicting on a frame it has validated itself applies the
    numeric columns' :class:`NumericSteps` and the categorical pipeline
    directly, with the same result.

    Parameters
    ----------
    column_transformer : ColumnTransformer
        The fitted ``"auto"`` ColumnTransformer.
    """

    def __init__(self, column_transformer):
        self.parts = [
            (list(columns), NumericSteps(transformer) if name == "num" else transformer)
            for name, transformer, columns in column_transformer.transformers_
            if name in ("num", "cat")
        ]

    def __call__(self, frame):
        """The ColumnTransformer's output for a validated DataFrame ``frame``."""
        out = []
        for columns, steps in self.parts:
            if isinstance(steps, NumericSteps):
                # The dtype check_array gives the imputer: float32 only if all are.
                dtypes = set(frame.dtypes[columns])
                dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
                values = frame[columns].to_numpy(dtype=dtype, na_value=np.nan)
                assert_all_finite(values, allow_nan=True, input_name="X")
                out.append(steps(values))
            else:
                out.append(steps.transform(frame[columns]))
        return np.hstack(out) if len(out) > 1 else out[0]

    @classmethod
    def of(cls, preprocessor):
        """The steps of a fitted ``"auto"`` ColumnTransformer, else None."""
        if not isinstance(preprocessor, ColumnTransformer):
            return None
        return cls(preprocessor)


def _categorical_pipeline():
    return Pipeline(
        [
            ("as_str", FunctionTransformer(_as_category_strings, feature_names_out="one-to-one")),
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
            ),
        ]
    )


def split_columns(frame):
    """Names of the numeric and of the categorical columns of ``frame``.

    Booleans (``bool`` and nullable ``boolean``) count as categories; every
    other non-numeric dtype (``category``, ``object``, ``str``, dates) too.
    This is the one column classifier of the package: the ``"auto"``
    preprocessor uses it, and :class:`~sfne_sklearn.DataAnalyzer` fits that
    preprocessor.
    """
    numeric, categorical = [], []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            categorical.append(name)
        else:
            numeric.append(name)
    return numeric, categorical


def make_auto_preprocessor(X, *, sample_weighted=False):
    """Build the unfitted ``preprocessor="auto"`` transformer for ``X``.

    DataFrames get a ColumnTransformer chosen from the column dtypes; arrays
    (all numeric) get the numeric pipeline alone.
    """
    with config_context(enable_metadata_routing=True):
        if not is_dataframe(X):
            return _numeric_pipeline(sample_weighted)
        numeric, categorical = split_columns(X)
        transformers = []
        if numeric:
            transformers.append(("num", _numeric_pipeline(sample_weighted), numeric))
        if categorical:
            transformers.append(("cat", _categorical_pipeline(), categorical))
        return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def check_numeric_columns(fitted, X):
    """Name a column, numeric at fit time, that now holds something else.

    Without this, the imputer says "Cannot use mean strategy with
    non-numeric data" and no column name.
    """
    if not isinstance(fitted, ColumnTransformer) or not is_dataframe(X):
        return
    for name, _, columns in fitted.transformers_:
        if name != "num":
            continue
        for column in columns:
            values = X[column]
            if pd.api.types.is_numeric_dtype(values.dtype):
                continue
            bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
            if len(bad):
                raise ValueError(
                    f"Column {column!r} was numeric at fit time, but holds "
                    f"{bad.iloc[0]!r} (row {bad.index[0]!r}); pass numbers, or NaN for a "
                    "missing value."
                )


def fit_preprocessor(preprocessor, X, sample_weight=None):
    """Fit a clone of ``preprocessor`` on ``X``; return it and ``X`` transformed.

    ``"auto"`` preprocessors are fitted with ``sample_weight`` routed to
    their scalers. User transformers are fitted as given; weights reach them
    only where the user enabled metadata routing and requested them.
    """
    if isinstance(preprocessor, str):  # "auto"
        fitted = make_auto_preprocessor(X, sample_weighted=sample_weight is not None)
        if sample_weight is None:
            return fitted, fitted.fit_transform(X)
        with config_context(enable_metadata_routing=True):
            return fitted, fitted.fit_transform(X, sample_weight=sample_weight)
    fitted = clone(preprocessor)
    return fitted, fitted.fit_transform(X)
