"""Inspect a DataFrame and build the Keras model that preprocesses its columns."""

import dataclasses
import re
import warnings

import keras
import numpy as np
import pandas as pd
from keras import ops

MISSING_TOKEN = "[MISSING]"
"""Token that :meth:`DataAnalyzer.to_inputs` puts in place of missing categories.

It is never part of a vocabulary, so missing values share the out-of-vocabulary
slot with categories that were not seen in the analysed frame.
"""

OOV_TOKEN = "[UNK]"


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class ImputeMissing(keras.layers.Layer):
    """Stack numeric columns, fill NaNs and append missing-value indicators.

    Args:
        fill_values: One value per input column, used where it is NaN.
        add_indicator: One bool per input column: whether to append a 0/1
            feature that marks where that column was NaN. Defaults to none.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of ``k`` tensors of shape ``(batch,)`` (or ``(batch, 1)``).

    Output shape:
        ``(batch, k + sum(add_indicator))``: the filled columns, then the
        indicators, in column order.

    Example:
        >>> import numpy as np
        >>> layer = ImputeMissing(fill_values=[0.5, 2.0], add_indicator=[True, False])
        >>> a = np.array([1.0, np.nan], dtype="float32")
        >>> b = np.array([3.0, 4.0], dtype="float32")
        >>> np.asarray(layer([a, b])).tolist()
        [[1.0, 3.0, 0.0], [0.5, 4.0, 1.0]]
    """

    def __init__(self, fill_values, add_indicator=None, **kwargs):
        super().__init__(**kwargs)
        self.fill_values = [float(v) for v in fill_values]
        if add_indicator is None:
            add_indicator = [False] * len(self.fill_values)
        self.add_indicator = [bool(v) for v in add_indicator]
        if len(self.add_indicator) != len(self.fill_values):
            raise ValueError(
                "`fill_values` and `add_indicator` must have the same length. "
                f"Received: {len(self.fill_values)} and {len(self.add_indicator)}"
            )
        if not self.fill_values:
            raise ValueError("`fill_values` must name at least one column.")
        self._indicator_columns = [i for i, flag in enumerate(self.add_indicator) if flag]

    def call(self, inputs):
        columns = [ops.reshape(ops.cast(x, self.compute_dtype), (-1,)) for x in inputs]
        x = ops.stack(columns, axis=-1)
        missing = ops.isnan(x)
        fill = ops.convert_to_tensor(np.asarray(self.fill_values), self.compute_dtype)
        filled = ops.where(missing, ops.expand_dims(fill, 0), x)
        if not self._indicator_columns:
            return filled
        indicators = ops.take(missing, self._indicator_columns, axis=1)
        return ops.concatenate([filled, ops.cast(indicators, self.compute_dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], len(self.fill_values) + len(self._indicator_columns))

    def get_config(self):
        config = super().get_config()
        config.update(fill_values=self.fill_values, add_indicator=self.add_indicator)
        return config


@dataclasses.dataclass(frozen=True)
class ColumnInfo:
    """What :class:`DataAnalyzer` found out about one column.

    Attributes
    ----------
    column : hashable
        The column label in the analysed DataFrame.
    name : str
        ``str(column)``: the key of this column in the input dict.
    kind : {"numeric", "categorical", "boolean"}
        How the column is encoded.
    dtype : str
        The pandas dtype of the column.
    n_missing : int
        Number of missing values.
    mean, variance : float or None
        Mean and population variance of the non-missing values (numeric
        columns only). The variance of a constant column is stored as 1.
    vocabulary : tuple of str or None
        Known categories, as strings, in one-hot order after the
        out-of-vocabulary slot (categorical and boolean columns only).
    """

    column: object
    name: str
    kind: str
    dtype: str
    n_missing: int
    mean: float | None = None
    variance: float | None = None
    vocabulary: tuple | None = None

    @property
    def has_missing(self):
        """Whether the analysed column had missing values."""
        return self.n_missing > 0


class DataAnalyzer:
    """Analyse a DataFrame and build the Keras model that preprocesses it.

    Each column is classified from its dtype and summarised once, here:

    - **numeric** columns (numpy ints and floats, nullable ``Int64`` /
      ``Float64``): missing values are filled with the mean, then the column
      is standardised with :class:`keras.layers.Normalization` using the
      mean and variance measured here. Columns that had missing values also
      get a 0/1 missing-value indicator feature.
    - **categorical** columns (``category``, ``object``, ``str``/``string``)
      and **boolean** columns (``bool``, nullable ``boolean``): one-hot
      encoded by :class:`keras.layers.StringLookup` with one
      out-of-vocabulary slot, which also receives missing values and
      categories never seen here.

    The preprocessing model takes a dict ``{str(column): tensor of shape
    (batch,)}`` (see :meth:`to_inputs`) and returns one float32 tensor of
    shape ``(batch, n_features_out)``, to be passed as the
    ``preprocessing_model`` of :class:`~sfne_sklearn.SFNEBlock` with
    ``input_dim=n_features_out``. It is saved and loaded with the block.

    Parameters
    ----------
    df : pandas.DataFrame
        The training frame. Column labels may be any hashable whose ``str``
        is unique, such as the integers ``0..n-1`` of a frame built from an
        array.

    Attributes
    ----------
    columns_ : list of ColumnInfo
        The summary of every column, in frame order.
    feature_names_in_ : list
        The column labels of ``df``.
    n_features_in_ : int
        Number of columns of ``df``.

    See Also
    --------
    sfne_sklearn.SFNEBlock : The model that takes the preprocessing model.

    Notes
    -----
    Output features come in this order: the standardised numeric columns,
    their missing-value indicators, then one one-hot block per categorical
    or boolean column (out-of-vocabulary slot first); see
    :meth:`get_feature_names_out`.

    String lookups run on TensorFlow string tensors, so a preprocessing model
    with categorical or boolean columns needs the TensorFlow backend. On
    other backends (JAX, PyTorch) only frames whose columns are all numeric
    can be preprocessed inside the model.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sfne_sklearn import DataAnalyzer
    >>> df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": [4, 5, 6]})
    >>> analyzer = DataAnalyzer(df)
    >>> analyzer.n_features_out
    3
    >>> analyzer.get_feature_names_out()
    ['x', 'y', 'x_missing']
    >>> model = analyzer.create_preprocessing_model()
    >>> tuple(model(analyzer.to_inputs(df)).shape)
    (3, 3)
    """

    def __init__(self, df):
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                "DataAnalyzer expects a pandas DataFrame. "
                f"Received: {type(df).__name__}. Wrap arrays with pd.DataFrame(X)."
            )
        if df.shape[1] == 0:
            raise ValueError("DataAnalyzer received a DataFrame with no columns.")
        if df.shape[0] == 0:
            raise ValueError("DataAnalyzer received a DataFrame with no rows.")
        if not df.columns.is_unique:
            duplicated = list(df.columns[df.columns.duplicated()])
            raise ValueError(f"DataFrame column labels must be unique. Duplicated: {duplicated}")
        names = [str(column) for column in df.columns]
        if len(set(names)) != len(names):
            clashes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(
                "Column labels must stay unique as strings, since str(column) names "
                f"the model input. These clash: {clashes}"
            )
        self.feature_names_in_ = list(df.columns)
        self.n_features_in_ = df.shape[1]
        self.columns_ = [_analyse_column(df[column], column) for column in df.columns]

    # -- what was found -------------------------------------------------------

    @property
    def numeric_columns(self):
        """list of str : Input names of the numeric columns."""
        return [info.name for info in self.columns_ if info.kind == "numeric"]

    @property
    def categorical_columns(self):
        """list of str : Input names of the categorical and boolean columns."""
        return [info.name for info in self.columns_ if info.kind != "numeric"]

    @property
    def requires_tensorflow(self):
        """bool : Whether the preprocessing model needs string tensors."""
        return bool(self.categorical_columns)

    @property
    def n_features_out(self):
        """int : Number of features the preprocessing model outputs."""
        return len(self.get_feature_names_out())

    @property
    def output_dim(self):
        """int : Alias of :attr:`n_features_out`, the ``input_dim`` of the block."""
        return self.n_features_out

    def get_feature_names_out(self):
        """Names of the output features of the preprocessing model.

        Returns
        -------
        list of str
            ``"<col>"`` for a standardised numeric column,
            ``"<col>_missing"`` for its missing-value indicator, and
            ``"<col>=[UNK]"`` then ``"<col>=<category>"`` for a one-hot
            block.
        """
        numeric = [info for info in self.columns_ if info.kind == "numeric"]
        names = [info.name for info in numeric]
        names += [f"{info.name}_missing" for info in numeric if info.has_missing]
        for info in self.columns_:
            if info.kind != "numeric":
                names += [f"{info.name}={token}" for token in (OOV_TOKEN, *info.vocabulary)]
        return names

    def summary(self):
        """Per-column summary as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            One row per column, indexed by input name, with the fields of
            :class:`ColumnInfo` and the number of output features.
        """
        rows = []
        for info in self.columns_:
            row = dataclasses.asdict(info)
            row["n_categories"] = None if info.vocabulary is None else len(info.vocabulary)
            del row["vocabulary"]
            rows.append(row)
        return pd.DataFrame(rows).set_index("name")

    # -- the Keras side -------------------------------------------------------

    def create_preprocessing_model(self, name="sfne_preprocessing"):
        """Build the Keras model that maps raw columns to features.

        Parameters
        ----------
        name : str, default="sfne_preprocessing"
            Name of the model.

        Returns
        -------
        keras.Model
            A functional model whose input is a dict ``{str(column): tensor of
            shape (batch,)}`` (float32 for numeric columns, string for the
            others, as made by :meth:`to_inputs`) and whose output is one
            float32 tensor of shape ``(batch, n_features_out)``.

        Raises
        ------
        RuntimeError
            If the frame has categorical or boolean columns and the Keras
            backend is not TensorFlow.
        """
        backend = keras.backend.backend()
        if self.requires_tensorflow and backend != "tensorflow":
            raise RuntimeError(
                "The preprocessing model one-hot encodes the categorical/boolean columns "
                f"{self.categorical_columns} with string lookups, which need TensorFlow "
                f"string tensors, but the Keras backend is {backend!r}. Set "
                "KERAS_BACKEND=tensorflow, or encode these columns as numbers first."
            )
        numeric = [info for info in self.columns_ if info.kind == "numeric"]
        categorical = [info for info in self.columns_ if info.kind != "numeric"]

        input_names = _unique_tensor_names([info.name for info in self.columns_], reserved=())
        layer_name = _LayerNamer(reserved=set(input_names.values()) | {name})
        inputs = {}
        for info in self.columns_:
            dtype = "float32" if info.kind == "numeric" else "string"
            inputs[info.name] = keras.Input(shape=(), dtype=dtype, name=input_names[info.name])

        blocks = []
        if numeric:
            n_indicators = sum(info.has_missing for info in numeric)
            imputed = ImputeMissing(
                fill_values=[info.mean for info in numeric],
                add_indicator=[info.has_missing for info in numeric],
                dtype="float32",
                name=layer_name("impute_missing"),
            )([inputs[info.name] for info in numeric])
            # Indicators pass through unchanged (mean 0, variance 1).
            blocks.append(
                keras.layers.Normalization(
                    mean=[info.mean for info in numeric] + [0.0] * n_indicators,
                    variance=[info.variance for info in numeric] + [1.0] * n_indicators,
                    dtype="float32",
                    name=layer_name("normalize"),
                )(imputed)
            )
        for info in categorical:
            blocks.append(
                keras.layers.StringLookup(
                    vocabulary=list(info.vocabulary),
                    num_oov_indices=1,
                    oov_token=OOV_TOKEN,
                    output_mode="one_hot",
                    dtype="float32",
                    name=layer_name(f"lookup_{info.name}"),
                )(inputs[info.name])
            )
        if len(blocks) > 1:
            outputs = keras.layers.Concatenate(
                axis=-1, dtype="float32", name=layer_name("features")
            )(blocks)
        else:
            outputs = blocks[0]
        with warnings.catch_warnings():
            # Keys that are not valid tensor names (e.g. containing "/") are
            # matched by dict key anyway; the name mismatch is harmless.
            warnings.filterwarnings("ignore", message="When providing `inputs` as a dict")
            return keras.Model(inputs=inputs, outputs=outputs, name=name)

    def to_inputs(self, df):
        """Convert a DataFrame into the dict the preprocessing model takes.

        Parameters
        ----------
        df : pandas.DataFrame
            A frame with (at least) the analysed columns, such as the
            training frame or new data at predict time. Columns are matched
            by label, or by ``str(label)`` when the label is absent. Extra
            columns are ignored.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{str(column): array of shape (n_rows,)}``: float32 with NaN for
            missing values for numeric columns, ``str`` arrays with missing
            values replaced by ``"[MISSING]"`` for the others.

        Raises
        ------
        KeyError
            If an analysed column is absent from ``df``.
        ValueError
            If a numeric column holds values that are not numbers.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"to_inputs expects a pandas DataFrame. Received: {type(df).__name__}."
            )
        by_name = {str(column): column for column in df.columns}
        absent = [
            info.name
            for info in self.columns_
            if info.column not in df.columns and info.name not in by_name
        ]
        if absent:
            raise KeyError(f"The DataFrame lacks the analysed columns {absent}.")
        result = {}
        for info in self.columns_:
            column = info.column if info.column in df.columns else by_name[info.name]
            series = df[column]
            if info.kind == "numeric":
                result[info.name] = _numeric_values(series, info.name)
            else:
                result[info.name] = _string_values(series)
        return result

    def __repr__(self):
        return (
            f"DataAnalyzer(n_features_in={self.n_features_in_}, "
            f"numeric={len(self.numeric_columns)}, "
            f"categorical={len(self.categorical_columns)}, "
            f"n_features_out={self.n_features_out})"
        )


def _analyse_column(series, column):
    name = str(column)
    dtype = series.dtype
    n_missing = int(series.isna().sum())
    common = dict(column=column, name=name, dtype=str(dtype), n_missing=n_missing)
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnInfo(kind="boolean", vocabulary=("False", "True"), **common)
    if isinstance(dtype, pd.CategoricalDtype):
        vocabulary = _clean_vocabulary(str(v) for v in dtype.categories)
        return ColumnInfo(kind="categorical", vocabulary=vocabulary, **common)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        values = _numeric_values(series, name).astype("float64")
        values = values[~np.isnan(values)]
        if np.isinf(values).any():
            raise ValueError(f"Column {name!r} holds infinite values.")
        if values.size == 0:
            mean, variance = 0.0, 1.0
        else:
            mean, variance = float(values.mean()), float(values.var())
            if variance == 0.0:
                variance = 1.0  # constant column: centre it, do not blow it up
        return ColumnInfo(kind="numeric", mean=mean, variance=variance, **common)
    if dtype == object or pd.api.types.is_string_dtype(dtype):
        vocabulary = _clean_vocabulary(sorted(set(_string_values(series.dropna()))))
        return ColumnInfo(kind="categorical", vocabulary=vocabulary, **common)
    raise TypeError(
        f"Column {name!r} has dtype {dtype}, which DataAnalyzer does not handle. "
        "Convert it to numbers, strings or categories first."
    )


def _clean_vocabulary(tokens):
    # StringLookup refuses duplicates and the reserved OOV token; the missing
    # token must stay out so that missing values land in the OOV slot.
    tokens = dict.fromkeys(t for t in tokens if t not in (OOV_TOKEN, MISSING_TOKEN))
    # An all-missing column still needs one entry (StringLookup refuses an
    # empty vocabulary); the missing token itself never occurs in the inputs.
    return tuple(tokens) or (MISSING_TOKEN + "_",)


def _numeric_values(series, name):
    try:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Column {name!r} was analysed as numeric but holds values that are not "
            f"numbers (dtype {series.dtype})."
        ) from exc
    return values.astype("float32")


def _string_values(series):
    # Object arrays of Python str: Keras's array data adapter (fit/predict)
    # turns them into string tensors but rejects numpy's fixed-width "<U".
    missing = series.isna().to_numpy()
    values = series.astype(object).to_numpy()
    strings = np.empty(values.shape, dtype=object)
    strings[:] = [MISSING_TOKEN if m else str(v) for v, m in zip(values, missing)]
    return strings


def _unique_tensor_names(names, reserved):
    """Map each input key to a valid, unique Keras tensor name."""
    taken = set(reserved)
    result = {}
    for key in names:
        base = re.sub(r"/", "_", key) or "column"
        candidate, i = base, 1
        while candidate in taken:
            candidate, i = f"{base}_{i}", i + 1
        taken.add(candidate)
        result[key] = candidate
    return result


class _LayerNamer:
    """Give internal layers names that cannot clash with input names."""

    def __init__(self, reserved):
        self._taken = set(reserved)

    def __call__(self, base):
        base = re.sub(r"/", "_", base)
        candidate, i = base, 1
        while candidate in self._taken:
            candidate, i = f"{base}_{i}", i + 1
        self._taken.add(candidate)
        return candidate
