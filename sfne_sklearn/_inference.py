"""A compiled forward pass for prediction.

``keras.Model.predict`` builds a data pipeline, splits the rows into batches
of 32 and runs callbacks on every call: about 100 ms of overhead for a single
row. Serving code calls predict one row at a time, so the estimators call one
compiled function instead, with a fixed feature count and dtype. The slow
network does not look at the data, so its convolution matrices are computed
once here and the compiled function runs only the block's data path.
"""

import threading

import keras
import numpy as np

# Rows per call: bounds the activations held at once on very large inputs.
CHUNK_ROWS = 65536


def make_predict_function(model, n_features, dtype):
    """Return ``f(X) -> np.ndarray`` computing ``model(X, training=False)``."""
    backend = keras.backend.backend()
    weights = model.hyper_weights()

    def forward(x):
        return model.fast_forward(x, *weights)

    if backend == "tensorflow":
        import tensorflow as tf

        # Traced once, here: calls never retrace (and each fitted model having
        # its own function does not trip TensorFlow's retracing warning).
        compiled = tf.function(forward).get_concrete_function(
            tf.TensorSpec([None, n_features], tf.as_dtype(dtype))
        )

        def run(X):
            return compiled(X).numpy()

    elif backend == "jax":
        import jax

        compiled = jax.jit(forward)

        def run(X):
            return np.asarray(compiled(X))

    else:

        def run(X):
            return keras.ops.convert_to_numpy(forward(X))

    def predict(X):
        X = np.ascontiguousarray(X, dtype=dtype)
        if X.shape[0] <= CHUNK_ROWS:
            return run(X)
        return np.concatenate(
            [run(X[start : start + CHUNK_ROWS]) for start in range(0, X.shape[0], CHUNK_ROWS)]
        )

    return predict


class LazyPredict:
    """``make_predict_function`` deferred to the first call.

    Tracing costs about 0.1 s, so fitting does not pay it; the lock makes
    concurrent first calls (a web server's threads) trace only once. The
    estimator holds this object from fit on, so predicting never changes the
    estimator's own attributes.
    """

    def __init__(self, model, n_features, dtype):
        self._args = (model, n_features, dtype)
        self._predict = None
        self._lock = threading.Lock()

    def __call__(self, X):
        if self._predict is None:
            with self._lock:
                if self._predict is None:
                    self._predict = make_predict_function(*self._args)
        return self._predict(X)
