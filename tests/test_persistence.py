"""pickle, deepcopy and joblib round trips of fitted estimators."""

import copy
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

import sfne_sklearn
from _frames import FAST, mixed_frame, regression_data
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer


def test_pickle_and_deepcopy_predict_the_same():
    X, y = regression_data()
    est = SFNERegressor(**FAST, random_state=0).fit(X, y)
    expected = est.predict(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(X), expected)
    np.testing.assert_array_equal(copy.deepcopy(est).predict(X), expected)
    # Pickling leaves the original usable.
    np.testing.assert_array_equal(est.predict(X), expected)


def test_joblib_round_trip_in_a_fresh_process_predicts_without_keras(tmp_path):
    frame, y = mixed_frame()
    pipe = Pipeline(
        [("sfne", SFNETransformer(output_dim=8, **FAST, random_state=0)), ("ridge", Ridge())]
    ).fit(frame, y)
    # float64, so that the rebuilt Keras model is compared to float64 rounding.
    reg = SFNERegressor(**FAST, dtype="float64", random_state=0).fit(frame, y)
    clf = SFNEClassifier(**FAST, random_state=0).fit(frame, np.where(y > 2, "high", "low"))
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    joblib.dump(reg, tmp_path / "reg.joblib")
    joblib.dump(clf, tmp_path / "clf.joblib")
    frame.to_pickle(tmp_path / "frame.pkl")
    np.save(tmp_path / "expected_pipe.npy", pipe.predict(frame))
    np.save(tmp_path / "expected_reg.npy", reg.predict(frame))
    np.save(tmp_path / "expected_clf.npy", clf.predict_proba(frame))
    script = textwrap.dedent(
        """
        import sys, joblib, numpy as np, pandas as pd
        d = sys.argv[1]
        frame = pd.read_pickle(d + "/frame.pkl")
        for name in ("pipe", "reg", "clf"):
            model = joblib.load(d + f"/{name}.joblib")
            out = model.predict_proba(frame) if name == "clf" else model.predict(frame)
            np.testing.assert_array_equal(out, np.load(d + f"/expected_{name}.npy"))
        # Predicting runs on NumPy: neither Keras nor a backend was imported.
        heavy = {"keras", "tensorflow", "scikeras", "jax", "torch"} & set(sys.modules)
        assert not heavy, heavy
        # The Keras model comes back when asked for, with the same outputs.
        reg = joblib.load(d + "/reg.joblib")
        Xt = reg.preprocessor_.transform(frame)
        out = np.asarray(reg.model_(Xt))[:, 0] * reg._y_scale[0] + reg._y_mean[0]
        np.testing.assert_allclose(out, np.load(d + "/expected_reg.npy"), rtol=1e-10)
        print("round trip ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "round trip ok" in done.stdout


RELEASE_0_1_0 = Path(__file__).parent / "data" / "release-0.1.0"


@pytest.mark.parametrize("name", ["regressor", "classifier", "transformer"])
def test_files_saved_by_release_0_1_0_still_load(name):
    # Written by tests/data/release-0.1.0/make_fixtures.py under the flat
    # module layout of 0.1.0 (sfne_sklearn._regressor and so on).
    X = pd.read_pickle(RELEASE_0_1_0 / "X.pkl")
    expected = np.load(RELEASE_0_1_0 / "expected.npz")[name]
    for loaded in (
        joblib.load(RELEASE_0_1_0 / f"{name}.joblib"),
        sfne_sklearn.load(RELEASE_0_1_0 / f"{name}.sfne"),
    ):
        if name == "transformer":
            got = loaded.transform(X)
        elif name == "classifier":
            got = loaded.predict_proba(X)
        else:
            got = loaded.predict(X)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        # Parameters added since hold the values that reproduce 0.1.0's
        # training, so that repr, get_params and clone work.
        params = loaded.get_params()
        assert params["dtype"] == "float64"
        assert params["learning_rate_schedule"] == "constant"
        assert params["spline_knots"] is None
        assert params["n_members"] == 1
        assert clone(loaded).get_params() == params
        assert type(loaded).__name__ in repr(loaded)


def test_a_loaded_estimator_pickles_again_without_rebuilding_its_model():
    X, y = regression_data()
    est = SFNERegressor(**FAST, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    assert "model_" not in vars(loaded)
    again = pickle.loads(pickle.dumps(loaded))
    assert "model_" not in vars(loaded)
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    # Its Keras model, rebuilt on demand, has the fitted weights.
    for rebuilt, fitted in zip(again.model_.get_weights(), est.model_.get_weights()):
        np.testing.assert_array_equal(rebuilt, fitted)
    # A refit starts from nothing loaded.
    again.fit(X, y)
    assert "_model_state" not in vars(again)
