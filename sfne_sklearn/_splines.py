"""Cubic B-spline features of numeric columns, in NumPy or ``keras.ops``.

Each encoded column ``x`` becomes ``n_knots + 2`` cubic B-splines on
``n_knots`` knots spaced evenly over ``[low, high]``; outside that range
every spline continues along its tangent at the nearest end, so the
features stay linear in ``x`` (as scikit-learn's
``SplineTransformer(extrapolation="linear")``). A network fed these beside
``x`` places thresholds and bends the way trees do: the piecewise encodings
of numeric features of Gorishniy et al. (2022), "On Embeddings for
Numerical Features in Tabular Deep Learning".

With evenly spaced knots every spline is the same bump, shifted: in knot
units ``u = (x - low) / step``, spline ``j`` is ``bump(u - j + 1)`` with
``bump(t) = ((2 - |t|)+^3 - 4 (1 - |t|)+^3) / 6``, which is closed form in
any array library. This module imports neither Keras nor its backend: the
Keras layer (``xp=keras.ops``), the NumPy forward pass that predicts
(``xp=numpy``) and the ONNX export share it.
"""

import numpy as np

from ._arrays import column_blocks


def _bump(t, xp=np):
    a = xp.abs(t)
    return (xp.maximum(2.0 - a, 0.0) ** 3 - 4.0 * xp.maximum(1.0 - a, 0.0) ** 3) / 6.0


def _bump_slope(t):
    a = np.abs(t)
    return -np.sign(t) / 2.0 * (np.maximum(2.0 - a, 0.0) ** 2 - 4.0 * np.maximum(1.0 - a, 0.0) ** 2)


def spline_grid(low, high, n_knots, dtype):
    """The constants of the encoding, as arrays of ``dtype``.

    Parameters
    ----------
    low, high : array-like of shape (n_columns,)
        Ends of each column's knot range, ``high > low``.
    n_knots : int
        Knots per column, at least 2.
    dtype : numpy dtype
        Float dtype of the arrays.

    Returns
    -------
    dict
        ``low`` and ``inverse_step`` per column (the affine map to knot
        units); ``centres`` of the ``n_knots + 2`` splines in knot units,
        and their slopes at the low and the high end (the tangents the
        linear extrapolation follows).
    """
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    last = n_knots - 1
    centres = np.arange(-1.0, n_knots + 1.0)
    grid = {
        "low": low,
        "inverse_step": last / (high - low),
        "centres": centres,
        "slope_low": _bump_slope(0.0 - centres),
        "slope_high": _bump_slope(last - centres),
        "last": np.asarray(float(last)),
    }
    return {name: value.astype(dtype) for name, value in grid.items()}


def spline_features(x, grid, xp=np):
    """The spline features of the columns of ``x``: shape ``(n, n_columns * (n_knots + 2))``.

    ``grid`` comes from :func:`spline_grid`, converted to ``xp``'s arrays;
    each column's splines are contiguous in the output.
    """
    u = (x - grid["low"]) * grid["inverse_step"]
    inside = xp.clip(u, 0.0, grid["last"])
    # (n, columns, splines): each spline at the clipped position, plus the
    # end tangent times how far beyond that end the value lies.
    features = _bump(inside[:, :, None] - grid["centres"], xp)
    features = features + xp.minimum(u, 0.0)[:, :, None] * grid["slope_low"]
    features = features + xp.maximum(u - grid["last"], 0.0)[:, :, None] * grid["slope_high"]
    return xp.reshape(features, (-1, x.shape[1] * grid["centres"].shape[0]))


def spline_pieces(x, grid):
    """The in-range part of :func:`spline_features` as its nonzero entries, in NumPy.

    At most four of a column's splines are nonzero at any value: on the
    knot interval ``k <= u < k + 1`` (``t = u - k``), splines ``k`` to
    ``k + 3`` take the uniform cubic B-spline weights below. Returns ``u``
    (the values in knot units), ``k`` (int; both of shape ``(n,
    n_columns)``) and the four weights (shape ``(n, n_columns, 4)``); the
    linear extrapolation beyond the knots is left to the caller
    (``min(u, 0)`` times ``slope_low``, ``max(u - last, 0)`` times
    ``slope_high``). A forward pass that scatters these into a zero
    matrix does a few passes over ``n * n_columns`` values where
    :func:`spline_features` does some twenty over ``n * n_columns * (n_knots + 2)``.
    """
    u = (x - grid["low"]) * grid["inverse_step"]
    inside = np.clip(u, 0.0, grid["last"])
    # The last knot belongs to the interval before it (t = 1 there).
    k = np.minimum(np.floor(inside), grid["last"] - 1)
    t = inside - k
    s = 1.0 - t
    t3 = t * t * t
    pieces = np.stack(
        [s * s * s, 4.0 - 6.0 * t * t + 3.0 * t3, 1.0 + 3.0 * t * (1.0 + t * s), t3], axis=-1
    )
    pieces /= 6.0
    return u, k.astype(np.intp), pieces


def many_valued_columns(X):
    """Indices of the columns of ``X`` that take more than two distinct values.

    A function of a two-valued column (a one-hot category, a missing-value
    indicator, a 0/1 flag) is linear in it: splines of it add nothing.
    Columns are checked a few at a time, so that the
    temporaries stay small next to ``X``.
    """
    X = np.asarray(X)
    many = np.zeros(X.shape[1], dtype=bool)
    for columns in column_blocks(X.shape):
        block = X[:, columns]
        low, high = block.min(axis=0, initial=np.inf), block.max(axis=0, initial=-np.inf)
        many[columns] = ((block != low) & (block != high)).any(axis=0)
    return np.flatnonzero(many)
