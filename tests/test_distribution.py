"""Fits on several devices: a ``tf.distribute`` strategy, a Keras distribution.

Logical devices must be set up before TensorFlow (or JAX) starts, so each
scenario runs in a fresh Python process with two logical CPU devices; the
process prints what it measured as JSON on its last line, and the tests
below check it. Both processes start together, when the first test asks
for one, so that they overlap.

Each scenario fits the same small SFNERegressor (same seed, same rows, a
global batch of 20 rows, which splits evenly over two replicas) once on
one device and once on two, and records, from a callback, what every train
step ran on. On JAX the fits have dropout, whose masks do not depend on the
devices there; on TensorFlow the fits compared with one device's have
none (each replica draws masks for its own rows), and a fit with dropout
under the strategy is checked to repeat itself.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

# -------------------------------------------------------------- the scripts
_COMMON = """
import json, os, pickle, sys, tempfile, warnings

import numpy as np

warnings.simplefilter("ignore")
results = {}


def fit_params(**params):
    # 200 rows, 10% held out for early stopping: 180 training rows in 9
    # batches of 20, 10 rows per replica. Float64, so that one device and two
    # (the same sums in another order) agree to its rounding. Dropout as
    # "auto" would have it on these rows, unless asked otherwise.
    defaults = dict(
        hidden_dim=8, num_layers=1, slow_network_units=8, slow_network_layers=2,
        epochs=5, batch_size=20, early_stopping=True, preprocessor=None, random_state=0,
        dtype="float64", dropout=0.2,
    )
    return {**defaults, **params}


rng = np.random.default_rng(0)
X = rng.normal(size=(200, 5))
y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=200)


def summary(recorder, est):
    steps = recorder.steps
    return {
        "steps": len(steps),
        "replicas": sorted({s["replicas"] for s in steps}),
        "devices": sorted({tuple(s["devices"]) for s in steps}),
        "models": sorted({s["model"] for s in steps}),
        "loss": est.history_["loss"],
        "val_loss": est.history_["val_loss"],
    }


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def keras_prediction(est):
    # preprocessor=None: the block sees X itself.
    out = np.asarray(est.model_(X))[:, 0]
    return out * est._y_scale[0] + est._y_mean[0]


def round_trips(est):
    # The Recorder is not part of a fitted model: drop it before saving.
    est.set_params(callbacks=None)
    pred = est.predict(X)
    found = {
        "keras_vs_numpy": max_diff(keras_prediction(est), pred),
        "pickle": max_diff(pickle.loads(pickle.dumps(est)).predict(X), pred),
    }
    if "save" in sys.argv:
        import sfne_sklearn

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "est.zip")
            sfne_sklearn.save(est, path)
            loaded = sfne_sklearn.load(path)
            found["save_load"] = max_diff(loaded.predict(X), pred)
            found["save_load_keras"] = max_diff(keras_prediction(loaded), pred)
    return found
"""

_TENSORFLOW = """
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras

from sfne_sklearn import SFNERegressor
from sfne_sklearn.training import _loop


class Recorder(keras.callbacks.Callback):
    # What each train step ran on: the strategy of the model being trained
    # and the devices holding (a copy of) its first weight.
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        strategy = self.model.distribute_strategy
        variable = self.model.trainable_variables[0].value
        self.steps.append({
            "replicas": strategy.num_replicas_in_sync,
            "devices": sorted(v.device for v in strategy.experimental_local_results(variable)),
            "model": id(self.model),
            "optimizer": type(self.model.optimizer).__name__,
        })


def fit(**params):
    recorder = Recorder()
    est = SFNERegressor(**fit_params(**params), callbacks=[recorder]).fit(X, y)
    found = {**summary(recorder, est), "kept": _loop.kept()}
    found["optimizer"] = sorted({s["optimizer"] for s in recorder.steps})
    return est, found


strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
_loop.clear_pool()
# Under a tf.distribute strategy each replica draws dropout masks for its
# own rows, not one device's masks for the whole batch: the fits compared
# with one device's have none.
one, results["one"] = fit(dropout=0.0)
with strategy.scope():
    two, results["two"] = fit(dropout=0.0)
# The other way round: each kind of fit finds its own kept model.
one_again, results["one_again"] = fit(dropout=0.0)
with strategy.scope():
    two_again, results["two_again"] = fit(dropout=0.0)
results["two_vs_one"] = max_diff(two.predict(X), one.predict(X))
results["one_again_vs_one"] = max_diff(one_again.predict(X), one.predict(X))
results["two_again_vs_two"] = max_diff(two_again.predict(X), two.predict(X))
with strategy.scope():
    dropped, results["dropped"] = fit()
    dropped_again, results["dropped_again"] = fit()
results["dropped_again_vs_dropped"] = max_diff(dropped_again.predict(X), dropped.predict(X))
results["model_replicas"] = two.model_.distribute_strategy.num_replicas_in_sync
results["round_trips"] = round_trips(two)
print(json.dumps(results))
"""

_JAX = """
import keras

from sfne_sklearn import SFNERegressor
from sfne_sklearn.training import _loop


class Recorder(keras.callbacks.Callback):
    # What each train step ran on: the distribution in force and the
    # devices holding the model's first weight.
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        distribution = keras.distribution.distribution()
        variable = self.model.trainable_variables[0].value
        self.steps.append({
            "replicas": len(variable.sharding.device_set),
            "devices": sorted(str(d) for d in variable.sharding.device_set),
            "model": id(self.model),
            "distribution": type(distribution).__name__,
        })


def fit():
    recorder = Recorder()
    est = SFNERegressor(**fit_params(), callbacks=[recorder]).fit(X, y)
    found = {**summary(recorder, est), "kept": _loop.kept()}
    found["distribution"] = sorted({s["distribution"] for s in recorder.steps})
    return est, found


results["devices"] = [str(d) for d in keras.distribution.list_devices("cpu")]
_loop.clear_pool()
one, results["one"] = fit()
data_parallel = keras.distribution.DataParallel(devices=keras.distribution.list_devices("cpu"))
with data_parallel.scope():
    two, results["two"] = fit()
results["two_vs_one"] = max_diff(two.predict(X), one.predict(X))
results["dtypes"] = sorted({str(w.value.dtype) for w in two.model_.weights})
results["round_trips"] = round_trips(two)
print(json.dumps(results))
"""


def _start(script, *args, env=None):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_COMMON + script), *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process, timeout=300):
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the scenario took more than {timeout} s:\n{err[-3000:]}")
    assert process.returncode == 0, err[-5000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def scenarios():
    """Both scenarios, started at once; each test waits for the one it needs."""
    processes = {
        "tensorflow": _start(_TENSORFLOW, "save", env={"KERAS_BACKEND": "tensorflow"}),
        "jax": _start(
            _JAX,
            env={
                "KERAS_BACKEND": "jax",
                # Two CPU devices for JAX; float64 as on TensorFlow (without
                # it JAX computes float64 models in float32).
                "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
                "JAX_ENABLE_X64": "1",
                "JAX_PLATFORMS": "cpu",
            },
        ),
    }
    results = {}

    def result(name):
        if name not in results:
            results[name] = _finish(processes[name])
        return results[name]

    yield result
    for process in processes.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


# ------------------------------------------------------------- tensorflow
# Mirrored training sums the two replicas' gradients of half the batch each,
# Keras having divided each replica's loss by 2: the same gradient as one
# device's mean over the whole batch, summed in another order. In float64
# the two fits' predictions differ by a few 1e-12 (measured: 0.7e-12 to
# 3.4e-12 after 45-50 Adam steps, predictions of standard deviation ~1.5);
# 1e-9 leaves a margin of ~300x, and is still far below what any real
# difference in training (another order or split of the rows) would make.
TF_TOLERANCE = 1e-9


def test_mirrored_fit_predicts_like_one_device(scenarios):
    found = scenarios("tensorflow")
    assert found["two_vs_one"] < TF_TOLERANCE, found["two_vs_one"]
    # The logged losses too (Keras logs them in float32); the validation
    # loss is computed outside Keras's step, undone from the per-replica
    # scaling as Keras does for its own.
    for key in ("loss", "val_loss"):
        one, two = found["one"][key], found["two"][key]
        assert len(one) == len(two) == 5
        assert max(abs(a - b) / abs(a) for a, b in zip(one, two)) < 1e-6, (key, one, two)


def test_mirrored_fit_trains_on_two_replicas(scenarios):
    """Fails if a fit inside the scope silently trains on one device."""
    found = scenarios("tensorflow")
    one, two = found["one"], found["two"]
    # 5 epochs of 9 steps: one step per batch under the strategy.
    assert two["steps"] == 45
    assert two["replicas"] == [2]
    assert len(two["devices"]) == 1 and len(two["devices"][0]) == 2
    assert [d.rsplit(":", 2)[-2:] for d in two["devices"][0]] == [["CPU", "0"], ["CPU", "1"]]
    assert one["replicas"] == [1]
    assert len(one["devices"][0]) == 1
    # Keras's own Adam, whose updates go through the strategy, under it;
    # the same updates on all variables at once (FlatAdam) on one device.
    assert two["optimizer"] == ["Adam"] and one["optimizer"] == ["FlatAdam"]
    # The fitted block belongs to the strategy it was trained under.
    assert found["model_replicas"] == 2


def test_kept_models_are_not_shared_across_strategies(scenarios):
    found = scenarios("tensorflow")
    one, two = found["one"], found["two"]
    one_again, two_again = found["one_again"], found["two_again"]
    # The mirrored fit built its own model beside the one-device one...
    assert one["kept"] == 1 and two["kept"] == 2
    assert set(one["models"]).isdisjoint(two["models"])
    # ...and each later fit reused the model of its own kind, never the other.
    assert one_again["models"] == one["models"] and one_again["replicas"] == [1]
    assert two_again["models"] == two["models"] and two_again["replicas"] == [2]
    assert one_again["kept"] == two_again["kept"] == 2
    # A reused compiled model trains exactly like a new one.
    assert found["one_again_vs_one"] == 0.0
    assert found["two_again_vs_two"] == 0.0


def test_mirrored_fit_with_dropout_trains_on_two_replicas_and_reproducibly(scenarios):
    found = scenarios("tensorflow")
    for fit in ("dropped", "dropped_again"):
        assert found[fit]["replicas"] == [2] and found[fit]["steps"] == 45
    assert found["dropped_again"]["models"] == found["dropped"]["models"]
    assert found["dropped_again_vs_dropped"] == 0.0


def test_mirrored_fit_round_trips(scenarios):
    trips = scenarios("tensorflow")["round_trips"]
    # The same weights, read from the mirrored variables, in both copies.
    assert trips["pickle"] == 0.0
    assert trips["save_load"] == 0.0
    # NumPy's forward pass against Keras's, on the trained mirrored model
    # and on the loaded one: other kernels, the same arithmetic.
    assert trips["keras_vs_numpy"] < 1e-12
    assert trips["save_load_keras"] < 1e-12


# -------------------------------------------------------------------- jax
# Keras on JAX splits each batch over the mesh and averages the gradients
# the same way. Measured: 2e-9 to 1.1e-7 after 4 to 50 steps, more than on
# TensorFlow: Keras's forward pass on JAX differs from NumPy's by ~8e-7
# even with float64 weights (its matmuls are not all float64-exact on CPU).
# 1e-5 leaves a margin of ~100x.
JAX_TOLERANCE = 1e-5


def test_jax_data_parallel_fit(scenarios):
    found = scenarios("jax")
    assert len(found["devices"]) == 2, found["devices"]
    one, two = found["one"], found["two"]
    # Trained with the user's DataParallel, weights on both devices.
    assert two["distribution"] == ["DataParallel"]
    # (On JAX Keras runs each epoch's 9 steps as one call: one record each.)
    assert two["replicas"] == [2] and two["steps"] == 5
    assert one["distribution"] == ["NoneType"] and one["replicas"] == [1]
    # Not the kept one-device model.
    assert one["kept"] == 1 and two["kept"] == 2
    assert set(one["models"]).isdisjoint(two["models"])
    assert found["two_vs_one"] < JAX_TOLERANCE, found["two_vs_one"]
    trips = found["round_trips"]
    assert trips["pickle"] == 0.0
    assert trips["keras_vs_numpy"] < 1e-5

