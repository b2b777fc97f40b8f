"""The NumPy forward pass that fitted estimators predict with."""

import numpy as np
import pytest

from _frames import QUICK, regression_data
from sfne_sklearn import SFNEBlock, SFNEClassifier, SFNERegressor, SFNETransformer
from sfne_sklearn.serving._forward import CHUNK_ROWS, NumpyForward


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-5)])
def test_equals_the_keras_block(dtype, tolerance):
    block = SFNEBlock(input_dim=5, output_dim=3, hidden_dim=16, seed=0, dtype=dtype)
    X = np.random.default_rng(0).normal(scale=3.0, size=(200, 5))
    expected = np.asarray(block(X.astype(dtype)))
    got = NumpyForward.from_block(block)(X)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def test_large_inputs_go_through_in_chunks():
    block = SFNEBlock(input_dim=2, output_dim=1, hidden_dim=8, seed=0, dtype="float64")
    forward = NumpyForward.from_block(block)
    X = np.random.default_rng(0).normal(size=(CHUNK_ROWS + 7, 2))
    np.testing.assert_allclose(forward(X), np.concatenate([forward(X[:5]), forward(X[5:])]))


def test_a_block_with_a_preprocessing_model_is_refused():
    import keras

    inputs = keras.Input(shape=(3,))
    block = SFNEBlock(input_dim=3, preprocessing_model=keras.Model(inputs, inputs))
    with pytest.raises(ValueError, match="preprocessing_model"):
        NumpyForward.from_block(block)


@pytest.mark.parametrize(
    "make, method",
    [
        (lambda: SFNERegressor(**QUICK, random_state=0), "predict"),
        (lambda: SFNEClassifier(**QUICK, random_state=0), "decision_function"),
        (lambda: SFNETransformer(output_dim=4, **QUICK, random_state=0), "transform"),
    ],
)
def test_estimators_predict_what_their_keras_model_computes(make, method):
    X, y = regression_data()
    est = make()
    est.fit(X, y if method != "decision_function" else y > np.median(y))
    Xt = est.preprocessor_.transform(X)
    keras_out = np.asarray(est.model_(Xt))
    got = getattr(est, method)(X)
    if method == "predict":
        keras_out = keras_out[:, 0] * est._y_scale[0] + est._y_mean[0]
    elif method == "decision_function":
        keras_out = keras_out[:, 0]
    np.testing.assert_allclose(got, keras_out, rtol=1e-10, atol=1e-10)
