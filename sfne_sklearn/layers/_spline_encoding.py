"""Cubic B-spline features of chosen input columns, appended to the inputs."""

import keras
import numpy as np
from keras import ops

from .._splines import spline_features, spline_grid
from .._validation import check_positive_int


@keras.saving.register_keras_serializable(package="sfne_sklearn")
class SplineEncoding(keras.layers.Layer):
    """Append cubic B-spline features of some columns to the inputs.

    Each encoded column becomes ``n_knots + 2`` smooth bumps on knots spaced
    evenly over ``[low, high]`` (linear beyond them), so that the next dense
    layer can bend and threshold the column as trees do, with weights
    linear in the number of columns. See :mod:`sfne_sklearn._splines` for
    the formula.

    Args:
        columns: Indices of the input columns to encode.
        n_knots: Knots per column, at least 2.
        low: Low end of the knot range; a float for every column, or one
            per column.
        high: High end of the knot range, above ``low``.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(batch, n_features)``.

    Output shape:
        ``(batch, n_features + len(columns) * (n_knots + 2))``: the inputs,
        then the splines of each encoded column in turn.

    Example:
        >>> import numpy as np
        >>> layer = SplineEncoding(columns=[0], n_knots=4, low=-1.0, high=1.0)
        >>> tuple(layer(np.zeros((2, 3), dtype="float32")).shape)
        (2, 9)
    """

    def __init__(self, columns, n_knots=8, low=-3.0, high=3.0, **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]
        if not self.columns or min(self.columns) < 0:
            raise ValueError(
                f"`columns` must be non-negative column indices, at least one. "
                f"Received: columns={columns!r}"
            )
        self.n_knots = check_positive_int(n_knots, "n_knots")
        if self.n_knots < 2:
            raise ValueError(f"`n_knots` must be at least 2. Received: n_knots={n_knots!r}")
        width = len(self.columns)
        self.low = np.broadcast_to(np.asarray(low, dtype=np.float64), (width,)).tolist()
        self.high = np.broadcast_to(np.asarray(high, dtype=np.float64), (width,)).tolist()
        if not np.all(np.asarray(self.high) > np.asarray(self.low)):
            raise ValueError(
                f"`high` must exceed `low` for every column. Received: low={low!r}, high={high!r}"
            )

    @property
    def n_outputs(self):
        """Spline features added: ``len(columns) * (n_knots + 2)``."""
        return len(self.columns) * (self.n_knots + 2)

    def grid(self, dtype):
        """The encoding's constants as NumPy arrays of ``dtype``."""
        return spline_grid(self.low, self.high, self.n_knots, dtype)

    def build(self, input_shape):
        n_features = input_shape[-1]
        if n_features is not None and max(self.columns) >= n_features:
            raise ValueError(
                f"SplineEncoding encodes column {max(self.columns)}, but its input has "
                f"{n_features} features."
            )
        # The constants once, as arrays of the compute dtype; a traced
        # call embeds them.
        self._grid = self.grid(np.dtype(self.compute_dtype))
        self.built = True

    def call(self, inputs):
        grid = {name: ops.convert_to_tensor(value) for name, value in self._grid.items()}
        encoded = ops.take(inputs, np.asarray(self.columns), axis=1)
        return ops.concatenate([inputs, spline_features(encoded, grid, ops)], axis=-1)

    def compute_output_shape(self, input_shape):
        width = None if input_shape[-1] is None else input_shape[-1] + self.n_outputs
        return (*input_shape[:-1], width)

    def get_config(self):
        config = super().get_config()
        config.update(columns=self.columns, n_knots=self.n_knots, low=self.low, high=self.high)
        return config
