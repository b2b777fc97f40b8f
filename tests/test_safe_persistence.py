"""sfne_sklearn.save / load, library versions in saved models, damaged files."""

import json
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import sfne_sklearn
from _frames import TINY, mixed_frame, regression_data
from sfne_sklearn import (
    InconsistentVersionWarning,
    SFNEClassifier,
    SFNERegressor,
    SFNETransformer,
)


pytestmark = pytest.mark.filterwarnings(
    "ignore:.*still improving:sklearn.exceptions.ConvergenceWarning"
)


def output(estimator, X):
    return estimator.predict(X) if hasattr(estimator, "predict") else estimator.transform(X)


@pytest.fixture(scope="module")
def fitted():
    """A fitted regressor on a mixed DataFrame, its data, and a saved archive."""
    frame, y = mixed_frame(n_samples=40)
    return SFNERegressor(**TINY).fit(frame, y), frame, y


@pytest.fixture
def archive(fitted, tmp_path):
    path = tmp_path / "model.sfne"
    sfne_sklearn.save(fitted[0], path)
    return path


def rewrite_member(path, name, change):
    """Rewrite one member of the zip archive at ``path`` through ``change``."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members[name] = change(members[name])
    with zipfile.ZipFile(path, "w") as target:
        for member, data in members.items():
            target.writestr(member, data)


# ------------------------------------------------------------ round trips
@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: SFNERegressor(**TINY), "numpy"),
        (lambda: SFNERegressor(**TINY), "frame"),
        (lambda: SFNETransformer(**TINY, output_dim=3), "frame"),
        (lambda: SFNEClassifier(**TINY), "labels"),
        (
            lambda: Pipeline([("sfne", SFNETransformer(**TINY, output_dim=3)), ("ridge", Ridge())]),
            "frame",
        ),
    ],
    ids=["regressor-array", "regressor-frame", "transformer", "classifier", "pipeline"],
)
def test_save_load_round_trip(make, data, tmp_path):
    X, y = regression_data(n_samples=30) if data == "numpy" else mixed_frame(n_samples=30)
    if data == "labels":
        y = pd.Categorical(np.array(["low", "mid", "high"])[np.argsort(np.argsort(y)) % 3])
    estimator = make().fit(X, y)
    path = tmp_path / "model.sfne"
    sfne_sklearn.save(estimator, path)
    loaded = sfne_sklearn.load(path)
    assert type(loaded) is type(estimator)
    np.testing.assert_array_equal(output(loaded, X), output(estimator, X))
    if data == "labels":
        np.testing.assert_array_equal(loaded.classes_, estimator.classes_)
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    with zipfile.ZipFile(path) as saved:
        manifest = json.loads(saved.read("manifest.json"))
        assert manifest["models"] == ["models/0.keras"]  # one .keras per Keras model
        assert set(saved.namelist()) == {"manifest.json", "estimator.skops", "models/0.keras"}
    assert manifest["versions"] == sfne_sklearn.serving._persistence.library_versions()
    assert manifest["estimator"].endswith(type(estimator).__name__)


def test_loaded_model_keeps_fitted_attributes(fitted, archive):
    estimator, frame, _ = fitted
    loaded = sfne_sklearn.load(archive)
    assert list(loaded.feature_names_in_) == list(frame.columns)
    assert loaded.n_iter_ == estimator.n_iter_ and loaded.history_ == estimator.history_
    assert loaded.get_params() == estimator.get_params()
    # Still a regular estimator: it pickles and refits.
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(loaded)).predict(frame), loaded.predict(frame)
    )


def test_unfitted_estimators_are_not_saved(tmp_path):
    with pytest.raises(NotFittedError):
        sfne_sklearn.save(SFNERegressor(), tmp_path / "model.sfne")
    assert list(tmp_path.iterdir()) == []


def test_keras_objects_in_parameters_are_refused_at_save(tmp_path):
    X, y = regression_data(n_samples=20)
    pipe = Pipeline([("sfne", SFNERegressor(**TINY, callbacks=[keras.callbacks.History()]))]).fit(
        X, y
    )
    with pytest.raises(TypeError, match=r"Keras objects in the parameters \['sfne__callbacks'\]"):
        sfne_sklearn.save(pipe, tmp_path / "pipe.sfne")
    assert list(tmp_path.iterdir()) == []


def double(X):
    return 2 * X


def test_untrusted_types_are_refused(tmp_path):
    X, y = regression_data(n_samples=30)
    pipe = Pipeline([("double", FunctionTransformer(double)), ("sfne", SFNERegressor(**TINY))]).fit(
        X, y
    )
    path = tmp_path / "pipe.sfne"
    sfne_sklearn.save(pipe, path)
    with pytest.raises(TypeError, match=r"does not trust.*test_safe_persistence\.double"):
        sfne_sklearn.load(path)
    loaded = sfne_sklearn.load(path, trusted=["test_safe_persistence.double"])
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


# ------------------------------------------------------- damaged archives
@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:-10],
        lambda data: b"",
        lambda data: data[:200] + bytes(b ^ 0xFF for b in data[200:400]) + data[400:],
        lambda data: data[: len(data) // 2] + bytes(64) + data[len(data) // 2 + 64 :],
    ],
    ids=["half", "tail-cut", "empty", "flipped-bytes-head", "zeroed-bytes-middle"],
)
def test_truncated_or_corrupted_archive_gives_a_clear_error(archive, damage):
    archive.write_bytes(damage(archive.read_bytes()))
    with pytest.raises(ValueError, match="not a readable sfne_sklearn archive: it is truncated"):
        sfne_sklearn.load(archive)


def test_other_files_are_not_archives(fitted, tmp_path):
    joblib.dump(fitted[0], tmp_path / "model.joblib")
    with pytest.raises(ValueError, match="not a readable sfne_sklearn archive"):
        sfne_sklearn.load(tmp_path / "model.joblib")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as other:
        other.writestr("manifest.json", json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="format='something else'"):
        sfne_sklearn.load(tmp_path / "other.zip")


def test_newer_archive_format_is_refused(archive):
    rewrite_member(
        archive,
        "manifest.json",
        lambda data: json.dumps({**json.loads(data), "format_version": 99}).encode(),
    )
    with pytest.raises(ValueError, match="format 99.*Upgrade sfne_sklearn"):
        sfne_sklearn.load(archive)


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_joblib_file_fails_to_load(fitted, tmp_path, cut):
    # It fails (the pickle's final STOP is gone), but with whatever pickle
    # raises where the data ends: UnpicklingError, EOFError, IndexError, ...
    # docs/reliability.md lists them; sfne_sklearn.load does better.
    path = tmp_path / "model.joblib"
    joblib.dump(fitted[0], path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(Exception):  # noqa: B017
        joblib.load(path)


# --------------------------------------------------------------- versions
def test_archive_from_other_versions_warns(fitted, archive):
    def fake(data):
        manifest = json.loads(data)
        manifest["versions"]["keras"] = "3.0.0"
        return json.dumps(manifest).encode()

    rewrite_member(archive, "manifest.json", fake)
    with pytest.warns(InconsistentVersionWarning, match=r"keras 3\.0\.0 -> ") as record:
        loaded = sfne_sklearn.load(archive)
    assert record[0].message.original_versions["keras"] == "3.0.0"
    np.testing.assert_array_equal(loaded.predict(fitted[1]), fitted[0].predict(fitted[1]))


def test_archive_from_same_versions_does_not_warn(archive, recwarn):
    sfne_sklearn.load(archive)
    assert not [w for w in recwarn if issubclass(w.category, InconsistentVersionWarning)]


@pytest.mark.parametrize("library", ["sfne_sklearn", "numpy", "scikit-learn"])
def test_pickle_from_other_versions_warns(fitted, library):
    estimator, frame, _ = fitted
    state = estimator.__getstate__()
    assert state["_sfne_versions"] == sfne_sklearn.serving._persistence.library_versions()
    state["_sfne_versions"] = {**state["_sfne_versions"], library: "0.0.1"}
    copy = SFNERegressor.__new__(SFNERegressor)
    with pytest.warns(InconsistentVersionWarning, match=rf"{library} 0\.0\.1 -> "):
        copy.__setstate__(state)
    np.testing.assert_array_equal(copy.predict(frame), estimator.predict(frame))


@pytest.mark.parametrize("library", ["keras", "tensorflow"])
def test_pickle_from_other_keras_versions_warns_when_the_model_is_rebuilt(fitted, library):
    # Predicting runs on NumPy; the Keras side is loaded, and checked, with model_.
    estimator, frame, _ = fitted
    state = estimator.__getstate__()
    state["_sfne_versions"] = {**state["_sfne_versions"], library: "0.0.1"}
    copy = SFNERegressor.__new__(SFNERegressor)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        copy.__setstate__(state)
        np.testing.assert_array_equal(copy.predict(frame), estimator.predict(frame))
    with pytest.warns(InconsistentVersionWarning, match=rf"{library} 0\.0\.1 -> "):
        model = copy.model_
    assert model is copy.model_


def test_filters_on_scikit_learns_warning_cover_ours(fitted):
    import sklearn.exceptions

    state = fitted[0].__getstate__()
    state["_sfne_versions"] = {**state["_sfne_versions"], "scikit-learn": "0.0.1"}
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=sklearn.exceptions.InconsistentVersionWarning)
        with pytest.raises(InconsistentVersionWarning) as raised:
            SFNERegressor.__new__(SFNERegressor).__setstate__(state)
    warning = raised.value
    assert warning.estimator_name == "SFNERegressor"
    assert warning.original_sklearn_version == "0.0.1"
    assert "scikit-learn 0.0.1 -> " in str(warning)


def test_pickle_without_versions_warns(fitted):
    state = fitted[0].__getstate__()
    del state["_sfne_versions"]
    with pytest.warns(InconsistentVersionWarning, match="unknown"):
        SFNERegressor.__new__(SFNERegressor).__setstate__(state)


# ----------------------------------------------- another process, 1 thread
@pytest.mark.slow
def test_loads_under_other_tensorflow_thread_settings(fitted, tmp_path):
    estimator, frame, _ = fitted
    joblib.dump(estimator, tmp_path / "model.joblib")
    sfne_sklearn.save(estimator, tmp_path / "model.sfne")
    frame.to_pickle(tmp_path / "frame.pkl")
    np.save(tmp_path / "expected.npy", estimator.predict(frame))
    script = textwrap.dedent(
        """
        import sys, warnings
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import joblib, numpy as np, pandas as pd
        import sfne_sklearn
        warnings.simplefilter("error", sfne_sklearn.InconsistentVersionWarning)
        d = sys.argv[1]
        frame = pd.read_pickle(d + "/frame.pkl")
        expected = np.load(d + "/expected.npy")
        for model in (joblib.load(d + "/model.joblib"), sfne_sklearn.load(d + "/model.sfne")):
            np.testing.assert_allclose(model.predict(frame), expected, rtol=1e-12, atol=1e-12)
        assert tf.config.threading.get_intra_op_parallelism_threads() == 1
        print("same predictions")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same predictions" in done.stdout
