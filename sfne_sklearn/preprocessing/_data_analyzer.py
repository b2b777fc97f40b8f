"""Inspect a DataFrame and build the Keras model that preprocesses its columns.

The rules are those of the estimators' ``preprocessor="auto"``
(:mod:`sfne_sklearn.preprocessing._columns`): :class:`DataAnalyzer` fits that
scikit-learn transformer and copies its fitted statistics into Keras layers.
"""

import dataclasses
import re
import warnings

import keras
import numpy as np
import pandas as pd
from keras import ops

from ._columns import NumericSteps, category_strings, make_auto_preprocessor, split_columns


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class ImputeMissing(keras.layers.Layer):
    """Stack numeric columns, fill NaNs and append missing-value indicators.

    The Keras counterpart of ``SimpleImputer(add_indicator=True)``: a column
    whose fill value is ``None`` (it had no observed value) is dropped from
    the output, and only its indicator is kept.

    Args:
        fill_values: One value per input column, used where it is NaN, or
            ``None`` to drop the column.
        add_indicator: One bool per input column: whether to append a 0/1
            feature that marks where that column was NaN. Defaults to none.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        A list of ``k`` tensors of shape ``(batch,)`` (or ``(batch, 1)``).

    Output shape:
        ``(batch, n_kept + sum(add_indicator))``: the filled columns that are
        kept, then the indicators, in column order.

    Example:
        >>> import numpy as np
        >>> layer = ImputeMissing(fill_values=[0.5, 2.0], add_indicator=[True, False])
        >>> a = np.array([1.0, np.nan], dtype="float32")
        >>> b = np.array([3.0, 4.0], dtype="float32")
        >>> np.asarray(layer([a, b])).tolist()
        [[1.0, 3.0, 0.0], [0.5, 4.0, 1.0]]
        >>> np.asarray(ImputeMissing([None, 2.0], [True, False])([a, b])).tolist()
        [[3.0, 0.0], [4.0, 1.0]]
    """

    def __init__(self, fill_values, add_indicator=None, **kwargs):
        super().__init__(**kwargs)
        self.fill_values = [None if v is None else float(v) for v in fill_values]
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
        self._kept_columns = [i for i, v in enumerate(self.fill_values) if v is not None]
        self._indicator_columns = [i for i, flag in enumerate(self.add_indicator) if flag]

    def call(self, inputs):
        columns = [ops.reshape(ops.cast(x, self.compute_dtype), (-1,)) for x in inputs]
        x = ops.stack(columns, axis=-1)
        missing = ops.isnan(x)
        fill = [0.0 if v is None else v for v in self.fill_values]
        filled = ops.where(missing, ops.convert_to_tensor([fill], self.compute_dtype), x)
        if len(self._kept_columns) < len(self.fill_values):
            filled = ops.take(filled, self._kept_columns, axis=1)
        if not self._indicator_columns:
            return filled
        indicators = ops.take(missing, self._indicator_columns, axis=1)
        return ops.concatenate([filled, ops.cast(indicators, self.compute_dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], len(self._kept_columns) + len(self._indicator_columns))

    def get_config(self):
        config = super().get_config()
        config.update(fill_values=self.fill_values, add_indicator=self.add_indicator)
        return config


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class Log1pColumns(keras.layers.Layer):
    """``log1p`` of some feature columns, values below zero clipped to zero.

    The Keras counterpart of the estimators' ``LogSkewed`` transform, with
    the columns it chose at fit time.

    Args:
        columns: Indices of the last axis to transform; the others pass
            through unchanged.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Example:
        >>> import numpy as np
        >>> x = np.array([[np.e - 1.0, -3.0], [-2.0, -3.0]], dtype="float32")
        >>> np.round(np.asarray(Log1pColumns(columns=[0])(x)), 4).tolist()
        [[1.0, -3.0], [0.0, -3.0]]
    """

    def __init__(self, columns, **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        selected = np.isin(np.arange(x.shape[-1]), self.columns)
        # Like LogSkewed: log1p needs > -1, so unseen negative values become 0.
        return ops.where(selected, ops.log1p(ops.maximum(x, 0.0)), x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(columns=self.columns)
        return config


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class OneHotCategories(keras.layers.Layer):
    """One-hot encode strings over a fixed vocabulary; other strings give zeros.

    The Keras counterpart of ``OneHotEncoder(handle_unknown="ignore")``: one
    feature per known category, in vocabulary order, and a row of zeros for
    a string outside it. It wraps :class:`keras.layers.StringLookup` and
    drops its out-of-vocabulary slot; the lookup needs TensorFlow string
    tensors.

    Args:
        vocabulary: The known categories, as strings.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(batch,)`` strings.

    Output shape:
        ``(batch, len(vocabulary))``.
    """

    def __init__(self, vocabulary, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = [str(token) for token in vocabulary]
        if not self.vocabulary:
            raise ValueError("`vocabulary` must hold at least one category.")
        # StringLookup refuses a vocabulary that holds its OOV token.
        oov_token = "[UNK]"
        while oov_token in self.vocabulary:
            oov_token += "_"
        self._lookup = keras.layers.StringLookup(
            vocabulary=self.vocabulary,
            num_oov_indices=1,
            oov_token=oov_token,
            output_mode="one_hot",
            dtype=self.compute_dtype,
        )

    def build(self, input_shape):
        # The lookup table comes from the vocabulary; nothing is learnt here.
        self._lookup.build(input_shape)

    def call(self, inputs):
        return self._lookup(inputs)[:, 1:]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.vocabulary))

    def get_config(self):
        config = super().get_config()
        config.update(vocabulary=self.vocabulary)
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
    kind : {"numeric", "categorical"}
        How the column is encoded; booleans are categorical.
    dtype : str
        The pandas dtype of the column.
    n_missing : int
        Number of missing values.
    fill_value : float or None
        Mean of the non-missing values, put in place of missing ones
        (numeric columns only). None for a column without any observed
        value: it is dropped, and only its missing-value indicator is kept.
    log : bool
        Whether ``log1p`` is applied before the standardisation (numeric
        columns that are non-negative and skewed, see :class:`DataAnalyzer`).
    mean, variance : float or None
        Mean and population variance of the column after imputation (and
        ``log1p``), with which it is standardised (numeric columns only).
        The variance of a constant column is stored as 1.
    vocabulary : tuple of str or None
        Categories seen, as strings (missing values as ``"__missing__"``),
        in one-hot order (categorical columns only).
    """

    column: object
    name: str
    kind: str
    dtype: str
    n_missing: int
    fill_value: float | None = None
    log: bool = False
    mean: float | None = None
    variance: float | None = None
    vocabulary: tuple | None = None

    @property
    def has_missing(self):
        """Whether the analysed column had missing values."""
        return self.n_missing > 0


class DataAnalyzer:
    """Analyse a DataFrame and build the Keras model that preprocesses it.

    The rules are those of the estimators' ``preprocessor="auto"``: the
    analyzer fits that scikit-learn ``ColumnTransformer`` (kept as
    :attr:`preprocessor_`) and copies its fitted statistics into Keras
    layers, so the preprocessing model computes the same features as the
    estimators do, in the same order:

    - **numeric** columns (numpy ints and floats, nullable ``Int64`` /
      ``Float64``): missing values are filled with the mean, and each column
      that had missing values gets a 0/1 missing-value indicator feature;
      then ``log1p`` of the non-negative columns whose skewness (measured
      after imputation) is above 2; then every one of these features,
      indicators included, is standardised with
      :class:`keras.layers.Normalization`. A column without any observed
      value is dropped; its indicator stays.
    - **categorical** columns (``category``, ``object``, ``str``/``string``,
      ``bool``, nullable ``boolean``, dates): values as strings, missing
      values as the category ``"__missing__"``, one-hot encoded over the
      categories seen here. A category never seen here (or a missing value
      where none was seen) gives a row of zeros.

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
    preprocessor_ : sklearn.compose.ColumnTransformer
        The estimators' ``"auto"`` preprocessor, fitted on ``df`` with its
        columns renamed to ``str(column)``; the model's statistics come from
        it.

    See Also
    --------
    sfne_sklearn.SFNEBlock : The model that takes the preprocessing model.

    Notes
    -----
    Output features come in this order: the numeric columns, their
    missing-value indicators, then one one-hot block per categorical
    column, categories sorted as strings; see :meth:`get_feature_names_out`.

    What differs from the estimators' preprocessor:

    - the Keras model computes in float32 (the estimators in float64), so
      features agree to float32 precision, not bit for bit;
    - its feature names are ``"x"``, ``"x_missing"`` and ``"colour=red"``
      where the estimators' are ``"num__x"``,
      ``"num__missingindicator_x"`` and ``"cat__colour_red"``;
    - it takes no sample weights: statistics are unweighted;
    - columns are matched by label (or ``str(label)``) and extra columns
      are ignored, where the estimators refuse a frame whose columns differ;
    - string lookups run on TensorFlow string tensors, so a model with
      categorical columns needs the TensorFlow backend. On other backends
      (JAX, PyTorch) only frames whose columns are all numeric can be
      preprocessed inside the model.

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
        # String labels: ColumnTransformer reads integer labels as positions.
        frame = df.set_axis(names, axis=1)
        numeric, _ = split_columns(frame)
        for name in numeric:
            # The imputer would refuse these too, without naming the column.
            if np.isinf(_numeric_values(frame[name], name, dtype="float64")).any():
                raise ValueError(f"Column {name!r} holds infinite values.")
        self.preprocessor_ = make_auto_preprocessor(frame).fit(frame)
        self.columns_ = self._describe_columns(df)

    def _numeric_steps(self):
        """The arrays of the fitted imputer, log step and scaler of the numeric columns."""
        return NumericSteps(self.preprocessor_.named_transformers_["num"])

    def _describe_columns(self, df):
        found = {}
        selected = {name: columns for name, _, columns in self.preprocessor_.transformers_}
        numeric = selected.get("num", [])
        if numeric:
            steps = self._numeric_steps()
            # SimpleImputer drops the columns without an observed value; the
            # log step and the scaler see the kept ones only.
            for j, name in enumerate(numeric):
                if j not in steps.kept:
                    found[name] = {"kind": "numeric"}
                    continue
                p = int(np.searchsorted(steps.kept, j))
                found[name] = {
                    "kind": "numeric",
                    "fill_value": float(steps.fill[p]),
                    "log": bool(np.isin(p, steps.log_columns)),
                    "mean": float(steps.mean[p]),
                    "variance": float(steps.scale[p] ** 2),
                }
        categorical = selected.get("cat", [])
        if categorical:
            encoder = self.preprocessor_.named_transformers_["cat"]["onehot"]
            for name, categories in zip(categorical, encoder.categories_):
                vocabulary = tuple(str(c) for c in categories)
                found[name] = {"kind": "categorical", "vocabulary": vocabulary}
        return [
            ColumnInfo(
                column=column,
                name=str(column),
                dtype=str(df[column].dtype),
                n_missing=int(df[column].isna().sum()),
                **found[str(column)],
            )
            for column in df.columns
        ]

    # -- what was found -------------------------------------------------------

    @property
    def numeric_columns(self):
        """list of str : Input names of the numeric columns."""
        return [info.name for info in self.columns_ if info.kind == "numeric"]

    @property
    def categorical_columns(self):
        """list of str : Input names of the categorical (and boolean) columns."""
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
            ``"<col>"`` for a numeric column, ``"<col>_missing"`` for its
            missing-value indicator, and ``"<col>=<category>"`` for each
            feature of a one-hot block.
        """
        numeric = [info for info in self.columns_ if info.kind == "numeric"]
        names = [info.name for info in numeric if info.fill_value is not None]
        names += [f"{info.name}_missing" for info in numeric if info.has_missing]
        for info in self.columns_:
            if info.kind != "numeric":
                names += [f"{info.name}={token}" for token in info.vocabulary]
        return names

    def summary(self):
        """Per-column summary as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            One row per column, indexed by input name, with the fields of
            :class:`ColumnInfo` and the number of categories.
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
            If the frame has categorical columns and the Keras backend is
            not TensorFlow.
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
            steps = self._numeric_steps()
            features = ImputeMissing(
                fill_values=[info.fill_value for info in numeric],
                add_indicator=[info.has_missing for info in numeric],
                dtype="float32",
                name=layer_name("impute_missing"),
            )([inputs[info.name] for info in numeric])
            if steps.log_columns.size:
                features = Log1pColumns(
                    columns=steps.log_columns.tolist(), dtype="float32", name=layer_name("log1p")
                )(features)
            # The scaler's statistics cover the indicators too: they are
            # standardised like any other feature, as by the estimators.
            blocks.append(
                keras.layers.Normalization(
                    mean=steps.mean.tolist(),
                    variance=(steps.scale**2).tolist(),
                    dtype="float32",
                    name=layer_name("normalize"),
                )(features)
            )
        for info in categorical:
            blocks.append(
                OneHotCategories(
                    vocabulary=info.vocabulary,
                    dtype="float32",
                    name=layer_name(f"one_hot_{info.name}"),
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
            missing values for numeric columns; for the others, object
            arrays of ``str`` with missing values as ``"__missing__"``, as
            the estimators' one-hot encoder sees them.

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
                # Object arrays of Python str: Keras's array data adapter
                # (fit/predict) takes them, not numpy's fixed-width "<U".
                result[info.name] = category_strings(series)
        return result

    def __repr__(self):
        return (
            f"DataAnalyzer(n_features_in={self.n_features_in_}, "
            f"numeric={len(self.numeric_columns)}, "
            f"categorical={len(self.categorical_columns)}, "
            f"n_features_out={self.n_features_out})"
        )


def _numeric_values(series, name, dtype="float32"):
    try:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Column {name!r} was analysed as numeric but holds values that are not "
            f"numbers (dtype {series.dtype})."
        ) from exc
    return values.astype(dtype)


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
