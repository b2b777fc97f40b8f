"""Training and prediction throughput on whatever accelerator is present.

Rows per second of the spec's reference ``SFNEBlock`` trained with plain
Keras (``fit`` on arrays, Adam, MSE, float32), of ``SFNERegressor`` on the
same rows (``preprocessor=None``, float32 input so it computes in float32,
no early stopping), and of a plain Keras 64x3 MLP for reference, at batch
256 and 4096; prediction throughput of the block and of the estimator.
Each timing follows a warm-up run of the same shapes (tracing and XLA
compilation excluded). Runs on the active Keras backend (``KERAS_BACKEND``:
tensorflow or jax) and on its default device (the GPU when there is one).

Run: KERAS_BACKEND=jax python benchmarks/gpu.py [--rows 200000] [--out gpu.json]
Writes a JSON result (and prints it).
"""

import argparse
import json
import platform
import time
import warnings

import keras
import numpy as np

from sfne_sklearn import SFNEBlock, SFNERegressor


def devices():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices()]
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_logical_devices()]
    return ["unknown"]


def timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def keras_training(make_model, X, y, batch_size, epochs):
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(X, y, batch_size=batch_size, epochs=1, verbose=0)  # warm-up: trace, compile
    seconds = timed(lambda: model.fit(X, y, batch_size=batch_size, epochs=epochs, verbose=0))
    predict_s = timed(lambda: model.predict(X, batch_size=4096, verbose=0))
    model.predict(X, batch_size=4096, verbose=0)
    predict_s = min(predict_s, timed(lambda: model.predict(X, batch_size=4096, verbose=0)))
    return len(X) * epochs / seconds, len(X) / predict_s


def mlp(n_features):
    inputs = keras.Input((n_features,))
    h = inputs
    for _ in range(3):
        h = keras.layers.Dense(64, activation="relu")(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def estimator_training(X, y, batch_size, epochs):
    params = dict(epochs=epochs, batch_size=batch_size, early_stopping=False,
                  preprocessor=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SFNERegressor(**{**params, "epochs": 1}).fit(X, y)  # warm-up
        est = SFNERegressor(**params)
        seconds = timed(lambda: est.fit(X, y))
    est.predict(X[:4096])
    predict_s = timed(lambda: est.predict(X))
    return len(X) * epochs / seconds, len(X) / predict_s


def main(n_rows, n_features, epochs, batches, out):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, n_features)).astype("float32")
    y = (X[:, :5].sum(axis=1) + 0.1 * rng.normal(size=n_rows)).astype("float32")
    result = {
        "backend": keras.backend.backend(),
        "devices": devices(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "rows": n_rows,
        "features": n_features,
        "epochs_timed": epochs,
        "results": [],
    }
    for batch_size in batches:
        for name, run in [
            ("SFNEBlock (keras fit)", lambda b: keras_training(
                lambda: SFNEBlock(input_dim=n_features, output_dim=1), X, y[:, None], b, epochs)),
            ("SFNERegressor", lambda b: estimator_training(X, y, b, epochs)),
            ("Keras MLP 64x3", lambda b: keras_training(
                lambda: mlp(n_features), X, y[:, None], b, epochs)),
        ]:
            train_rows_s, predict_rows_s = run(batch_size)
            row = {"model": name, "batch_size": batch_size,
                   "train_rows_per_s": round(train_rows_s), "predict_rows_per_s": round(predict_rows_s)}
            result["results"].append(row)
            print(json.dumps(row), flush=True)
    text = json.dumps(result, indent=1)
    if out:
        with open(out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    main(args.rows, args.features, args.epochs, args.batches, args.out)
