"""A fitted block's data path in NumPy: predicting needs no Keras.

The slow network never looks at the data, so once a block is trained its two
convolution matrices are constants. What is left per row is a handful of
matrix products, layer normalisations and ReLUs (``SFNEBlock.fast_forward``).
:class:`NumpyForward` holds those weights as arrays, taken from the Keras
block once, at the end of a fit: ``predict`` and ``transform`` run on NumPy
alone, and a pickled estimator predicts without importing Keras or its
backend. Keras's own ``predict`` would also cost about 100 ms of set-up per
call, where serving code calls it one row at a time.
"""

import numpy as np

from .._splines import spline_pieces

# Rows per chunk: the activations of a chunk stay in the CPU's cache, and
# very large inputs never hold all their activations at once. An ensemble's
# rows run once per member, so its chunks hold CHUNK_ROWS member-rows
# (100,000 rows of 8 members: 0.85 s in chunks of 256 rows, 1.04 s of
# 1,024, 1.47 s of 2,048).
CHUNK_ROWS = 2048
_FOUR = np.arange(4)


def _arrays(*variables):
    import keras

    return tuple(keras.ops.convert_to_numpy(v) for v in variables)


def _dense(layer):
    return _arrays(layer.kernel, layer.bias)


def _norm(layer):
    return (*_arrays(layer.gamma, layer.beta), float(layer.epsilon))


def _cast(weights, dtype):
    """``weights`` (nested tuples, lists and dicts) with float arrays as ``dtype``."""
    if isinstance(weights, np.ndarray) and weights.dtype.kind == "f":
        return weights.astype(dtype, copy=False)
    if isinstance(weights, (tuple, list)):
        return type(weights)(_cast(w, dtype) for w in weights)
    if isinstance(weights, dict):
        return {name: _cast(w, dtype) for name, w in weights.items()}
    return weights


def folded_members(weights):
    """The input and output projections with an ensemble's members folded in.

    Member m scales the inputs by ``s_m`` and projects with ``(W_m, b_m)``;
    the block's output is the members' mean. Scaling the inputs scales the
    input kernel's rows, so all members' input projections are one product,
    ``x @ [diag(s_1) W | ... | diag(s_k) W]``, whose rows, read ``hidden_dim``
    wide, are the members' rows (a reshape); the mean of the members' output
    projections is one product of those rows side by side with
    ``[W_1; ...; W_k] / k``. Without members, the weights' own projections.

    Returns the number of members and both ``(kernel, bias)`` pairs.
    """
    input_kernel, input_bias = weights["input_projection"]
    output = weights["output_projection"]
    scales = weights.get("member_scales")
    if scales is None:
        return 1, (input_kernel, input_bias), output
    n_members = len(scales)
    kernel = np.concatenate([s[:, None] * input_kernel for s in scales], axis=1)
    heads, head_bias = output
    return (
        n_members,
        (kernel, np.tile(input_bias, n_members)),
        (heads.reshape(-1, heads.shape[-1]) / n_members, head_bias.mean(axis=0)),
    )


class NumpyForward:
    """``SFNEBlock.fast_forward`` with the block's weights as NumPy arrays.

    Parameters
    ----------
    weights : dict
        The arrays, by role (see :meth:`from_block`).
    dtype : numpy dtype
        Float dtype the block computes in; inputs are cast to it.
    """

    def __init__(self, weights, dtype):
        self.weights = weights
        self.dtype = np.dtype(dtype)
        # Derived from the weights, once: a one-row prediction costs in
        # NumPy calls, not in flops. Both convolution matrices side by side
        # take one product for the two branches; the output norm's scale
        # and shift fold into the output projection.
        self._both_kernels = np.hstack([weights["global_weights"], weights["local_weights"]])
        self._n_members, input_projection, (kernel, bias) = folded_members(weights)
        gamma, beta, _ = weights["output_norm"]
        gamma, beta = np.tile(gamma, self._n_members), np.tile(beta, self._n_members)
        self._output_projection = (gamma[:, None] * kernel, beta @ kernel + bias)
        # A column of 1/width: row means of the hidden state as one product.
        width = weights["norm"][0].shape[0]
        self._averaging = np.full((width, 1), 1.0 / width, dtype=self.dtype)
        # The input projection split into the features' rows and the
        # splines' (one block of rows per encoded column); the linear
        # extrapolation's slopes fold into the latter, one row per column
        # and end. Pickles from before the spline encoding have no "splines".
        kernel, bias = input_projection
        self._splines = weights.get("splines")
        self._input_projection = (kernel, bias)
        if self._splines is not None:
            columns, grid = self._splines
            n_splines = len(grid["centres"])
            n_features = len(kernel) - len(columns) * n_splines
            spline_kernel = kernel[n_features:]
            by_column = spline_kernel.reshape(len(columns), n_splines, -1)
            self._input_projection = (kernel[:n_features], bias)
            self._spline_kernel = spline_kernel
            # Where each encoded column's splines start in a row of them.
            self._column_offsets = np.arange(len(columns)) * n_splines
            self._slope_kernels = (
                np.einsum("s,csh->ch", grid["slope_low"], by_column),
                np.einsum("s,csh->ch", grid["slope_high"], by_column),
            )

    # Pickles hold the weights and the dtype alone, as before the derived
    # arrays existed; loading derives them again.
    def __getstate__(self):
        return {"weights": self.weights, "dtype": self.dtype}

    def __setstate__(self, state):
        self.__init__(state["weights"], state["dtype"])

    @classmethod
    def from_block(cls, block, dtype=None):
        """The data path of a built :class:`SFNEBlock` without a preprocessing model.

        ``dtype``: the float type to compute in; None, the block's. Float32
        weights are exact in float64.
        """
        if block.preprocessing_model is not None:
            raise ValueError(
                "NumpyForward runs the block's numeric data path only; this block has a "
                "preprocessing_model. Use the Keras model itself."
            )
        global_weights, local_weights = _arrays(*block.hyper_weights())
        weights = {
            # The spline encoding's columns and constants, or None.
            "splines": (
                None
                if block.splines is None
                else (
                    np.asarray(block.splines.columns),
                    block.splines.grid(np.dtype(block.compute_dtype)),
                )
            ),
            "input_projection": _dense(block.input_projection),
            "hidden_layers": [_dense(layer) for layer in block.hidden_layers],
            "norm": _norm(block.norm),
            "global_weights": global_weights,
            "local_weights": local_weights,
            "combine": _dense(block.combine),
            "output_norm": _norm(block.output_norm),
            "output_projection": _dense(block.output_projection),
        }
        if block.member_scaling is not None:
            weights["member_scales"] = _arrays(block.member_scaling.scales)[0]
        dtype = np.dtype(block.compute_dtype if dtype is None else dtype)
        return cls(_cast(weights, dtype), dtype)

    @property
    def n_features(self):
        width = self.weights["input_projection"][0].shape[0]
        splines = self.weights.get("splines")
        if splines is not None:
            columns, grid = splines
            width -= len(columns) * len(grid["centres"])
        return width

    def __call__(self, X):
        """Outputs of the block for the rows of a 2-D array ``X``."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        chunk = max(1, CHUNK_ROWS // self._n_members)
        if X.shape[0] <= chunk:
            return self._forward(X)
        return np.concatenate(
            [self._forward(X[start : start + chunk]) for start in range(0, len(X), chunk)]
        )

    def _forward(self, x):
        w = self.weights
        # Steps 1-2: input projection (of the features and their splines)
        # and residual ReLU layers.
        z = _linear(x, self._input_projection)
        if self._splines is not None:
            z += self._project_splines(x)
        # An ensemble's members: each row's members one after another.
        z = z.reshape(-1, self._averaging.shape[0])
        for layer in w["hidden_layers"]:
            h = _linear(z, layer)
            z += np.maximum(h, 0, out=h)
        # Steps 4-6: Z . (Z K) with the global and the local convolution
        # matrix, side by side: [Z Kg | Z Kl] times [Z | Z].
        zn = _layer_norm(z, w["norm"], self._averaging)
        both = zn @ self._both_kernels
        halves = both.reshape(len(zn), 2, -1)  # a view of both
        halves *= zn[:, None, :]
        # Steps 7-8: combine both branches onto Z, normalise and project.
        z += _linear(both, w["combine"])
        normalised = _layer_norm(z, w["output_norm"], self._averaging, scale=False)
        return _linear(normalised.reshape(len(x), -1), self._output_projection)

    def _project_splines(self, x):
        """The input projection of the spline features of ``x``'s encoded columns."""
        columns, grid = self._splines
        u, first, pieces = spline_pieces(x[:, columns], grid)
        n_rows, width = len(u), len(self._spline_kernel)
        # Each column's four nonzero splines, scattered into zeros: the same
        # matrix as spline_features's inside the knots.
        first += self._column_offsets
        first += np.arange(0, n_rows * width, width)[:, None]
        features = np.zeros(n_rows * width, dtype=x.dtype)
        features[(first[..., None] + _FOUR).ravel()] = pieces.ravel()
        out = features.reshape(n_rows, width) @ self._spline_kernel
        below, above = self._slope_kernels
        out += np.minimum(u, 0.0) @ below
        out += np.maximum(u - grid["last"], 0.0) @ above
        return out


def _linear(x, kernel_bias):
    kernel, bias = kernel_bias
    out = x @ kernel
    out += bias
    return out


def _layer_norm(x, gamma_beta_epsilon, averaging, scale=True):
    """Layer normalisation; without ``gamma`` and ``beta`` where ``scale`` is False."""
    gamma, beta, epsilon = gamma_beta_epsilon
    # ``averaging``: a column of 1/width; the mean and the variance take
    # one product each, already (n, 1) as the broadcast needs.
    out = x - x @ averaging
    variance = (out * out) @ averaging
    variance += epsilon
    out /= np.sqrt(variance, out=variance)
    if scale:
        out *= gamma
        out += beta
    return out
