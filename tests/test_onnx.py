"""sfne_sklearn.to_onnx: the exported model predicts what the estimator does."""

import numpy as np
import pandas as pd
import pytest

from _frames import QUICK, mixed_frame, regression_data
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer, to_onnx

ort = pytest.importorskip("onnxruntime")


def run(model, X):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": np.asarray(X, dtype=np.float32)})[0]


def numeric_frame():
    X, y = regression_data(n_samples=150)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["skewed"] = np.exp(2 * np.random.default_rng(0).normal(size=len(frame)))
    frame.loc[::7, "a"] = np.nan  # mean-imputed, with an indicator
    frame["empty"] = np.nan  # dropped by the imputer
    return frame, y + np.log1p(frame["skewed"])


def test_regressor_with_missing_values_and_skewed_columns():
    frame, y = numeric_frame()
    est = SFNERegressor(**QUICK, random_state=0).fit(frame, y)
    steps = est.preprocessor_.named_transformers_["num"].named_steps
    assert steps["log"].log_columns_.size and steps["impute"].indicator_.features_.size
    new = frame.sample(40, random_state=1)
    got = run(to_onnx(est, frame.iloc[:5]), new)
    assert got.shape == (40,)
    np.testing.assert_allclose(got, est.predict(new), rtol=1e-4, atol=1e-4 * np.std(y))


@pytest.mark.parametrize("n_members", [1, 3])
def test_multi_target_regressor_on_arrays(n_members):
    X, y = regression_data()
    Y = np.column_stack([y, -2 * y])
    est = SFNERegressor(**QUICK, n_members=n_members, random_state=0).fit(X, Y)
    np.testing.assert_allclose(run(to_onnx(est), X), est.predict(X), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("n_classes, n_members", [(2, 1), (3, 1), (2, 3)])
def test_classifier_probabilities(n_classes, n_members):
    X, y = regression_data()
    labels = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    est = SFNEClassifier(**QUICK, n_members=n_members, random_state=0)
    est.fit(X, np.array(["a", "b", "c"])[labels])
    got = run(to_onnx(est), X)
    np.testing.assert_allclose(got, est.predict_proba(X), atol=1e-5)


def test_transformer_without_preprocessor():
    X, y = regression_data()
    est = SFNETransformer(output_dim=3, preprocessor=None, **QUICK, random_state=0).fit(X, y)
    np.testing.assert_allclose(run(to_onnx(est), X), est.transform(X), rtol=1e-4, atol=1e-4)


def test_what_cannot_be_exported_says_so():
    frame, y = mixed_frame()
    est = SFNERegressor(**{**QUICK, "epochs": 2}, random_state=0).fit(frame, y)
    with pytest.raises(ValueError, match="one-hot encodes the columns"):
        to_onnx(est)
    from sklearn.preprocessing import StandardScaler

    X, y = regression_data()
    scaled = SFNERegressor(preprocessor=StandardScaler(), **{**QUICK, "epochs": 2}).fit(X, y)
    with pytest.raises(ValueError, match="exports preprocessor='auto' or None"):
        to_onnx(scaled)
    plain = SFNERegressor(**{**QUICK, "epochs": 2}).fit(X, y)
    with pytest.raises(ValueError, match="takes 4 columns"):
        to_onnx(plain, X[:, :2])
