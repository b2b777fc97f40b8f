"""The base install (no extras) serves estimators fitted in the full install.

Run by `make test-serve` in a venv with `pip install -e .` only, on models
that tests_serve/fit_models.py fitted in the full install.
"""

import importlib.util
import os
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

MODELS = Path(os.environ.get("SFNE_SERVE_MODELS", "")).resolve()
pytestmark = pytest.mark.skipif(
    not (MODELS / "expected.npz").exists(), reason="set SFNE_SERVE_MODELS (make test-serve)"
)


def frame():
    return pd.read_csv(MODELS / "X.csv", dtype={"colour": object})


def test_this_install_has_no_keras_and_no_backend():
    for name in ("keras", "tensorflow", "scikeras", "jax", "torch", "skops"):
        assert importlib.util.find_spec(name) is None, name


@pytest.mark.parametrize("name", ["regressor", "classifier", "pipeline"])
def test_estimators_fitted_in_the_full_install_predict_the_same(name):
    model = joblib.load(MODELS / f"{name}.joblib")
    X = frame()
    got = model.predict_proba(X) if name == "classifier" else model.predict(X)
    np.testing.assert_allclose(got, np.load(MODELS / "expected.npz")[name], rtol=1e-12)
    # One row, as a server sends it.
    one = model.predict(X.iloc[:1])
    assert one.shape == (1,)
    assert not {"keras", "tensorflow"} & set(sys.modules)


def test_training_and_the_keras_model_say_what_to_install():
    from sfne_sklearn import SFNERegressor

    model = joblib.load(MODELS / "regressor.joblib")
    X = frame()
    with pytest.raises(ImportError, match=r'pip install "sfne-sklearn\[train\]"'):
        SFNERegressor(epochs=1).fit(X, np.zeros(len(X)))
    with pytest.raises(ImportError, match=r"SFNERegressor\.model_ needs Keras"):
        model.model_
    import sfne_sklearn

    with pytest.raises(ImportError, match=r"sfne_sklearn\.save needs Keras"):
        sfne_sklearn.save(model, MODELS / "never.sfne")
