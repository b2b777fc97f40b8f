"""The NumPy forward pass that fitted estimators predict with."""

import pickle

import numpy as np
import pytest

from _frames import QUICK, regression_data
from sfne_sklearn import SFNEBlock, SFNEClassifier, SFNERegressor, SFNETransformer
from sfne_sklearn.serving._forward import CHUNK_ROWS, NumpyForward


@pytest.mark.parametrize("n_members", [1, 3])
@pytest.mark.parametrize("splines", [{}, {"spline_columns": [0, 3], "spline_knots": 6}])
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-5)])
def test_equals_the_keras_block(dtype, tolerance, splines, n_members):
    block = SFNEBlock(
        input_dim=5, output_dim=3, hidden_dim=16, seed=0, dtype=dtype, n_members=n_members,
        **splines,
    )
    X = np.random.default_rng(0).normal(scale=3.0, size=(200, 5))
    expected = np.asarray(block(X.astype(dtype)))
    forward = NumpyForward.from_block(block)
    got = forward(X)
    assert forward.n_features == 5
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


def _perturbed_block(dtype="float64", n_members=1):
    """A block whose norms and biases are off their initial ones and zeros.

    NumpyForward folds the output norm's scale and shift into the output
    projection (and an ensemble's member scales into the input projection):
    with them at 1, 0 and random signs, a wrong fold could go unseen.
    """
    block = SFNEBlock(
        input_dim=5, output_dim=3, hidden_dim=16, seed=0, dtype=dtype, n_members=n_members
    )
    block(np.zeros((1, 5), dtype))
    rng = np.random.default_rng(1)
    block.set_weights([w + rng.normal(scale=0.3, size=w.shape) for w in block.get_weights()])
    return block


def _unfolded(weights, x):
    """``SFNEBlock.fast_forward`` step by step, each weight used as it is."""

    def linear(x, kernel_bias):
        return x @ kernel_bias[0] + kernel_bias[1]

    def layer_norm(x, gamma_beta_epsilon):
        gamma, beta, epsilon = gamma_beta_epsilon
        centred = x - x.mean(axis=1, keepdims=True)
        return centred / np.sqrt((centred**2).mean(axis=1, keepdims=True) + epsilon) * gamma + beta

    z = linear(x, weights["input_projection"])
    for layer in weights["hidden_layers"]:
        z = z + np.maximum(linear(z, layer), 0)
    zn = layer_norm(z, weights["norm"])
    global_features = zn * (zn @ weights["global_weights"])
    local_features = zn * (zn @ weights["local_weights"])
    z = z + linear(np.concatenate([global_features, local_features], axis=1), weights["combine"])
    return linear(layer_norm(z, weights["output_norm"]), weights["output_projection"])


def _unfolded_members(weights, x):
    """The mean of the members' outputs, each member's computed on its own."""
    kernels, biases = weights["output_projection"]
    outputs = [
        _unfolded({**weights, "output_projection": (kernel, bias)}, x * scales)
        for scales, kernel, bias in zip(weights["member_scales"], kernels, biases)
    ]
    return np.mean(outputs, axis=0)


def test_the_folded_members_equal_the_members_one_by_one_and_keras():
    block = _perturbed_block(n_members=3)
    forward = NumpyForward.from_block(block)
    assert forward.weights["member_scales"].shape == (3, 5)
    X = np.random.default_rng(0).normal(scale=3.0, size=(200, 5))
    got = forward(X)
    np.testing.assert_allclose(got, _unfolded_members(forward.weights, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, np.asarray(block(X)), rtol=1e-10, atol=1e-10)
    members = np.asarray(block(X, members=True))
    assert members.shape == (200, 3, 3)
    np.testing.assert_allclose(members.mean(axis=1), got, rtol=1e-10, atol=1e-10)
    # The members differ: their scales and heads are their own.
    assert np.ptp(members, axis=1).min() > 0
    np.testing.assert_allclose(forward(X[:1]), got[:1], rtol=1e-12, atol=1e-12)


def test_the_folded_path_equals_the_unfolded_steps_and_keras():
    block = _perturbed_block()
    forward = NumpyForward.from_block(block)
    assert not np.allclose(forward.weights["output_norm"][0], 1.0)
    X = np.random.default_rng(0).normal(scale=3.0, size=(200, 5))
    got = forward(X)
    np.testing.assert_allclose(got, _unfolded(forward.weights, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, np.asarray(block(X)), rtol=1e-10, atol=1e-10)
    # One row, as a server predicts.
    np.testing.assert_allclose(forward(X[:1]), got[:1], rtol=1e-12, atol=1e-12)


def test_pickles_hold_the_weights_and_older_ones_load(monkeypatch):
    forward = NumpyForward.from_block(_perturbed_block())
    X = np.random.default_rng(0).normal(size=(10, 5))
    # The derived arrays are made again on loading, never stored.
    assert set(forward.__getstate__()) == {"weights", "dtype"}
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(forward))(X), forward(X))
    # A pickle of the NumpyForward without derived arrays: its plain __dict__.
    older = object.__new__(NumpyForward)
    older.__dict__.update(weights=forward.weights, dtype=forward.dtype)
    with monkeypatch.context() as patched:
        patched.delattr(NumpyForward, "__getstate__")
        data = pickle.dumps(older)
    np.testing.assert_array_equal(pickle.loads(data)(X), forward(X))


@pytest.mark.parametrize("n_members", [1, 3])
def test_large_inputs_go_through_in_chunks(n_members):
    block = SFNEBlock(
        input_dim=2, output_dim=1, hidden_dim=8, seed=0, dtype="float64", n_members=n_members
    )
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
        (lambda **kw: SFNERegressor(**QUICK, **kw, random_state=0), "predict"),
        (lambda **kw: SFNEClassifier(**QUICK, **kw, random_state=0), "decision_function"),
        (lambda **kw: SFNETransformer(output_dim=4, **QUICK, **kw, random_state=0), "transform"),
    ],
)
# Both compute in the network's dtype: to float64 rounding, or float32's.
@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 1e-5)])
def test_estimators_predict_what_their_keras_model_computes(make, method, dtype, tol):
    X, y = regression_data()
    est = make(dtype=dtype)
    est.fit(X, y if method != "decision_function" else y > np.median(y))
    assert est.model_.dtype_policy.compute_dtype == dtype
    Xt = est.preprocessor_.transform(X)
    keras_out = np.asarray(est.model_(Xt))
    got = getattr(est, method)(X)
    if method == "predict":
        keras_out = keras_out[:, 0] * est._y_scale[0] + est._y_mean[0]
    elif method == "decision_function":
        keras_out = keras_out[:, 0]
    np.testing.assert_allclose(got, keras_out, rtol=tol, atol=tol)
