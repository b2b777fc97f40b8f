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

# Rows per chunk: the activations of a chunk stay in the CPU's cache, and
# very large inputs never hold all their activations at once.
CHUNK_ROWS = 2048


def _arrays(*variables):
    import keras

    return tuple(keras.ops.convert_to_numpy(v) for v in variables)


def _dense(layer):
    return _arrays(layer.kernel, layer.bias)


def _norm(layer):
    return (*_arrays(layer.gamma, layer.beta), float(layer.epsilon))


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

    @classmethod
    def from_block(cls, block):
        """The data path of a built :class:`SFNEBlock` without a preprocessing model."""
        if block.preprocessing_model is not None:
            raise ValueError(
                "NumpyForward runs the block's numeric data path only; this block has a "
                "preprocessing_model. Use the Keras model itself."
            )
        global_weights, local_weights = _arrays(*block.hyper_weights())
        weights = {
            "input_projection": _dense(block.input_projection),
            "hidden_layers": [_dense(layer) for layer in block.hidden_layers],
            "norm": _norm(block.norm),
            "global_weights": global_weights,
            "local_weights": local_weights,
            "combine": _dense(block.combine),
            "output_norm": _norm(block.output_norm),
            "output_projection": _dense(block.output_projection),
        }
        return cls(weights, block.compute_dtype)

    @property
    def n_features(self):
        return self.weights["input_projection"][0].shape[0]

    def __call__(self, X):
        """Outputs of the block for the rows of a 2-D array ``X``."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if X.shape[0] <= CHUNK_ROWS:
            return self._forward(X)
        return np.concatenate(
            [self._forward(X[start : start + CHUNK_ROWS]) for start in range(0, len(X), CHUNK_ROWS)]
        )

    def _forward(self, x):
        w = self.weights
        # Steps 1-2: input projection and residual ReLU layers.
        z = _linear(x, w["input_projection"])
        for layer in w["hidden_layers"]:
            h = _linear(z, layer)
            z += np.maximum(h, 0, out=h)
        # Steps 4-6: Z . (Z K) with the global and the local convolution matrix.
        zn = _layer_norm(z, w["norm"])
        global_features = zn @ w["global_weights"]
        global_features *= zn
        local_features = zn @ w["local_weights"]
        local_features *= zn
        # Steps 7-8: combine both branches onto Z (the combining kernel split
        # in two, rather than concatenating), normalise and project.
        kernel, bias = w["combine"]
        width = global_features.shape[1]
        z += global_features @ kernel[:width]
        z += local_features @ kernel[width:]
        z += bias
        return _linear(_layer_norm(z, w["output_norm"]), w["output_projection"])


def _linear(x, kernel_bias):
    kernel, bias = kernel_bias
    out = x @ kernel
    out += bias
    return out


def _layer_norm(x, gamma_beta_epsilon):
    gamma, beta, epsilon = gamma_beta_epsilon
    out = x - x.mean(axis=1, keepdims=True)
    variance = np.einsum("ij,ij->i", out, out)[:, None] / x.shape[1]
    out *= 1.0 / np.sqrt(variance + epsilon)
    out *= gamma
    out += beta
    return out
