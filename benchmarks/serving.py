"""Serving: cold start and prediction latency of fitted, joblib-loaded estimators.

Every comparison is measured side by side in this one run and printed as a
ratio: the cold start of a fresh process (import, ``joblib.load`` and one
one-row prediction) of ``SFNERegressor`` against ``MLPRegressor``; one-row
latencies against ``MLPRegressor`` (numpy) and the same ColumnTransformer +
``Ridge`` (DataFrame); 100,000 rows against the Keras paths of 0.1.0.
Run: python benchmarks/serving.py [--runs N]
Writes docs/benchmarks_serving.md.
"""

import argparse
import io
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline

from _common import column_transformer, load, machine, median_seconds
from sfne_sklearn import SFNEClassifier, SFNERegressor

DOCS = Path(__file__).resolve().parent.parent / "docs"
LINES = []

# A fresh process: import, load, one one-row prediction; prints its modules.
COLD_START = textwrap.dedent(
    """
    import sys, time
    start = time.perf_counter()
    import joblib, numpy as np
    model = joblib.load(sys.argv[1])
    model.predict(np.load(sys.argv[2]))
    print(time.perf_counter() - start)
    print(time.time())
    print(sorted({"keras", "tensorflow", "scikeras", "jax", "torch"} & set(sys.modules)))
    """
)


def report(text):
    print(text, flush=True)
    LINES.append(text)


def round_trip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def cold_starts(paths, row_path, runs):
    """Seconds of fresh processes, the models taking turns run by run.

    For each model, medians of: the whole process (start to exit), the
    start of the process to its first prediction (what a server waits
    for: the interpreter's exit comes after), and import + load + predict
    timed inside the process.
    """
    walls = {name: [] for name in paths}
    first = {name: [] for name in paths}
    inside = {name: [] for name in paths}
    imported = {}
    for _ in range(runs):
        for name, path in paths.items():
            start, started = time.perf_counter(), time.time()
            done = subprocess.run(
                [sys.executable, "-c", COLD_START, str(path), str(row_path)],
                capture_output=True,
                text=True,
                check=True,
            )
            walls[name].append(time.perf_counter() - start)
            seconds, predicted, modules = done.stdout.strip().splitlines()
            first[name].append(float(predicted) - started)
            inside[name].append(float(seconds))
            imported[name] = modules
    medians = [{name: float(np.median(v)) for name, v in d.items()} for d in (walls, first, inside)]
    return (*medians, imported)


def traced_keras_path(est):
    """0.1.0's predict path: one traced ``fast_forward`` with the hyper-weights fixed.

    In float64, as 0.1.0 computed (and as ``predict`` computes for float64
    features): the block rebuilt in float64 with the fitted weights.
    """
    import tensorflow as tf

    config = {**est.model_.get_config(), "dtype": "float64"}
    model = type(est.model_).from_config(config)
    model.set_weights([w.astype(np.float64) for w in est.model_.get_weights()])
    weights = model.hyper_weights()
    compiled = tf.function(lambda x: model.fast_forward(x, *weights)).get_concrete_function(
        tf.TensorSpec([None, model.input_dim], tf.float64)
    )
    return lambda features: compiled(features).numpy()


def main(runs):
    report(f"Measured on: {machine()}\n")
    X_train, X_test, y_train, _ = load("concrete")
    X_num, row = X_train.to_numpy(), X_test.to_numpy()[:1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = SFNERegressor(random_state=0).fit(X_num, y_train)
        mlp = MLPRegressor(early_stopping=True, random_state=0).fit(X_num, y_train)
        clf = SFNEClassifier(random_state=0).fit(X_num, y_train > np.median(y_train))

    with tempfile.TemporaryDirectory() as tmp:
        paths = {"SFNERegressor": Path(tmp, "sfne.joblib"), "MLPRegressor": Path(tmp, "mlp.joblib")}
        joblib.dump(ours, paths["SFNERegressor"])
        joblib.dump(mlp, paths["MLPRegressor"])
        np.save(Path(tmp, "row.npy"), row)
        walls, first, inside, imported = cold_starts(paths, Path(tmp, "row.npy"), runs)
        ours, mlp = joblib.load(paths["SFNERegressor"]), joblib.load(paths["MLPRegressor"])
    clf = round_trip(clf)
    report(f"## Cold start: a fresh process imports, loads with joblib and predicts one row "
           f"(median of {runs} runs, taking turns)\n")
    report("| model | process start to first prediction (s) | import + load + predict inside "
           "(s) | process start to exit (s) | heavy modules imported |")
    report("|---|---:|---:|---:|---|")
    for name in paths:
        report(f"| {name} | {first[name]:.3f} | {inside[name]:.3f} | {walls[name]:.3f} | "
               f"{imported[name]} |")
    ratio = first["SFNERegressor"] / first["MLPRegressor"]
    report(f"\nProcess start to first prediction: SFNERegressor / MLPRegressor = **{ratio:.2f}** "
           f"(target: at most 1 s and 1.3x); to exit: "
           f"{walls['SFNERegressor'] / walls['MLPRegressor']:.2f}\n")

    report("## One-row latency, estimators loaded from joblib (median of 1,000 calls)\n")
    ours_row = median_seconds(lambda: ours.predict(row), repeat=1000, warmup=10)
    mlp_row = median_seconds(lambda: mlp.predict(row), repeat=1000, warmup=10)
    proba_row = median_seconds(lambda: clf.predict_proba(row), repeat=1000, warmup=10)
    report(f"- numpy: SFNERegressor {1e3 * ours_row:.3f} ms vs MLPRegressor "
           f"{1e3 * mlp_row:.3f} ms -> ratio = **{ours_row / mlp_row:.2f}** (target <= 1)")
    report(f"- numpy, `SFNEClassifier.predict_proba`: {1e3 * proba_row:.3f} ms (target <= 1 ms)")

    Xp_train, Xp_test, yp_train, _ = load("penguins")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est_df = round_trip(SFNERegressor(random_state=0).fit(Xp_train, yp_train))
    ridge = make_pipeline(column_transformer(Xp_train), Ridge()).fit(Xp_train, yp_train)
    row_df = Xp_test.iloc[:1]
    ours_df = median_seconds(lambda: est_df.predict(row_df), repeat=1000, warmup=10)
    ridge_df = median_seconds(lambda: ridge.predict(row_df), repeat=1000, warmup=10)
    report(f"- DataFrame (penguins, categories and missing values): SFNERegressor "
           f"{1e3 * ours_df:.3f} ms vs the same ColumnTransformer + Ridge {1e3 * ridge_df:.3f} ms "
           f"-> ratio = **{ours_df / ridge_df:.2f}** (target <= 1)\n")

    report("## 100,000 rows (median of 5 calls)\n")
    big = np.tile(X_num, (100_000 // len(X_num) + 1, 1))[:100_000]
    features = ours.preprocessor_.transform(big)
    numpy_path = median_seconds(lambda: ours.predict(big), repeat=5, warmup=1)
    traced = traced_keras_path(ours)
    traced_path = median_seconds(lambda: traced(features), repeat=5, warmup=1)
    keras_predict = median_seconds(lambda: ours.model_.predict(features, verbose=0), repeat=5,
                                   warmup=1)
    direct = np.asarray(traced(features[:1000])).ravel() * ours._y_scale[0] + ours._y_mean[0]
    # Within float32 rounding: the NumPy pass takes the convolution matrices
    # as the float32 network computed them; the float64 rebuild recomputes them.
    np.testing.assert_allclose(ours.predict(big[:1000]), direct, rtol=1e-5)
    report(f"- `predict` (NumPy forward pass, preprocessing included): {numpy_path:.3f} s")
    report(f"- 0.1.0's path, one traced TensorFlow function (float64, features given): "
           f"{traced_path:.3f} s -> ratio = **{numpy_path / traced_path:.2f}** (target <= 1)")
    report(f"- Keras `model_.predict` (features given, the network's "
           f"{ours.model_.dtype_policy.compute_dtype}): {keras_predict:.3f} s")
    report("- predictions equal to the traced float64 path's within 1e-5 (relative): the "
           "network trained in float32\n")
    (DOCS / "benchmarks_serving.md").write_text("\n".join(LINES) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts per model")
    main(parser.parse_args().runs)
