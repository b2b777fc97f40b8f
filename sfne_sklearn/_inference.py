"""A compiled forward pass for prediction.

``keras.Model.predict`` builds a data pipeline, splits the rows into batches
of 32 and runs callbacks on every call: about 100 ms of overhead for a single
row. Serving code calls predict one row at a time, so the estimators call one
compiled function instead, with a fixed feature count and dtype.
"""

import keras
import numpy as np

# Rows per call: bounds the activations held at once on very large inputs.
CHUNK_ROWS = 65536


def make_predict_function(model, n_features, dtype):
    """Return ``f(X) -> np.ndarray`` computing ``model(X, training=False)``."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        forward = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, n_features], tf.as_dtype(dtype))],
        )

        def run(X):
            return forward(X).numpy()

    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        stateless = jax.jit(
            lambda x: model.stateless_call(trainable, non_trainable, x, training=False)[0]
        )

        def run(X):
            return np.asarray(stateless(X))

    else:

        def run(X):
            return keras.ops.convert_to_numpy(model(X, training=False))

    def predict(X):
        X = np.ascontiguousarray(X, dtype=dtype)
        if X.shape[0] <= CHUNK_ROWS:
            return run(X)
        return np.concatenate(
            [run(X[start : start + CHUNK_ROWS]) for start in range(0, X.shape[0], CHUNK_ROWS)]
        )

    return predict
