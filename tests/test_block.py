"""Tests of the SFNEBlock Keras model."""

import keras
import numpy as np
import pytest

from _frames import SMALL_BLOCK
from sfne_sklearn import SFNEBlock

DIM_ARGUMENTS = [
    "input_dim",
    "output_dim",
    "hidden_dim",
    "num_layers",
    "slow_network_layers",
    "slow_network_units",
]


def data(n=16, d=6, seed=0, dtype="float32"):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(dtype)


def float64_available():
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.read("jax_enable_x64"))


needs_float64 = pytest.mark.skipif(
    not float64_available(), reason="JAX computes in float32 unless JAX_ENABLE_X64=1"
)


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


# --------------------------------------------------------------------------
# Parameters


@pytest.mark.parametrize("argument", DIM_ARGUMENTS)
@pytest.mark.parametrize("value", [0, -4, 2.5, True, False, "8", np.float64(8.0)])
def test_rejects_bad_dimensions(argument, value):
    kwargs = {"input_dim": 6, **SMALL_BLOCK, argument: value}
    with pytest.raises(ValueError, match=rf"`{argument}` must be a positive integer") as info:
        SFNEBlock(**kwargs)
    assert f"{argument}={value!r}" in str(info.value)


def test_accepts_numpy_integers():
    model = SFNEBlock(input_dim=np.int64(6), output_dim=np.int32(2), **SMALL_BLOCK)
    assert (model.input_dim, model.output_dim) == (6, 2)
    assert isinstance(model.input_dim, int)


def test_input_dim_is_required():
    with pytest.raises(TypeError):
        SFNEBlock()


@pytest.mark.parametrize("value", [2, 4])
def test_rejects_even_local_kernel_size(value):
    with pytest.raises(ValueError, match=rf"kernel_size={value}"):
        SFNEBlock(input_dim=6, local_kernel_size=value, **SMALL_BLOCK)


def test_rejects_preprocessing_model_that_is_not_a_model():
    with pytest.raises(TypeError, match="preprocessing_model"):
        SFNEBlock(input_dim=6, preprocessing_model=lambda x: x)


def test_output_dim_defaults_to_input_dim():
    model = SFNEBlock(input_dim=6, **SMALL_BLOCK)
    assert model.output_dim == 6
    assert predict(model, data(d=6)).shape == (16, 6)


def test_spec_defaults():
    model = SFNEBlock(input_dim=16)
    assert (
        model.output_dim,
        model.hidden_dim,
        model.num_layers,
        model.slow_network_layers,
        model.slow_network_units,
    ) == (16, 64, 2, 3, 128)
    assert model.preprocessing_model is None


# --------------------------------------------------------------------------
# Shapes and dtypes


@pytest.mark.parametrize("n, d, out", [(1, 1, 1), (5, 6, 3), (16, 16, 8), (3, 4, 20)])
def test_output_shape(n, d, out):
    model = SFNEBlock(input_dim=d, output_dim=out, **SMALL_BLOCK)
    y = predict(model, data(n=n, d=d))
    assert y.shape == (n, out)
    assert tuple(model.compute_output_shape((n, d))) == (n, out)
    assert y.dtype == np.float32
    assert np.all(np.isfinite(y))


def test_float64_input_gives_float32_output():
    model = SFNEBlock(input_dim=6, output_dim=2, **SMALL_BLOCK)
    assert predict(model, data(dtype="float64")).dtype == np.float32


@needs_float64
def test_float64_dtype_policy():
    model = SFNEBlock(input_dim=6, output_dim=2, dtype="float64", **SMALL_BLOCK)
    y = predict(model, data(dtype="float64"))
    assert y.dtype == np.float64
    assert {v.dtype for v in model.weights} == {"float64"}
    assert predict(model, data(dtype="float32")).dtype == np.float64


def test_predict_with_a_batch_not_dividing_the_data():
    model = SFNEBlock(input_dim=6, output_dim=2, **SMALL_BLOCK)
    x = data(n=10)
    np.testing.assert_allclose(
        model.predict(x, batch_size=3, verbose=0), predict(model, x), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("received", [3, 10])
def test_wrong_feature_count_names_both_numbers(received):
    model = SFNEBlock(input_dim=6, output_dim=2, **SMALL_BLOCK)
    match = rf"expects 6 input features.*received {received} features"
    with pytest.raises(ValueError, match=match):
        model(data(d=received))


def test_dict_input_without_preprocessing_model_is_refused():
    model = SFNEBlock(input_dim=6, output_dim=2, **SMALL_BLOCK)
    with pytest.raises(ValueError, match="no `preprocessing_model`"):
        model({"a": data(d=6)})


def test_parameters_grow_linearly_with_input_dim():
    # Only the input projection sees the raw features: each extra feature
    # adds hidden_dim weights, nothing else changes.
    counts = [SFNEBlock(input_dim=d, output_dim=2, **SMALL_BLOCK).count_params() for d in (4, 8, 12, 16)]
    assert np.all(np.diff(counts) == 4 * SMALL_BLOCK["hidden_dim"])
    # Each spline-encoded feature adds its n_knots + 2 splines' weights.
    counts = [
        SFNEBlock(input_dim=16, output_dim=2, spline_columns=list(range(k)), spline_knots=6,
                  **SMALL_BLOCK).count_params()
        for k in (0, 4, 8)
    ]
    assert np.all(np.diff(counts) == 4 * 8 * SMALL_BLOCK["hidden_dim"])


def test_spline_columns_reach_the_input_projection():
    model = SFNEBlock(input_dim=6, output_dim=2, spline_columns=[0, 3], spline_knots=5,
                      **SMALL_BLOCK)
    kernel, bias = model.input_projection.get_weights()
    assert kernel.shape == (6 + 2 * 7, SMALL_BLOCK["hidden_dim"])
    # With the rows of the raw features zeroed, the encoded columns still
    # move the output (through their splines), the others no longer do.
    kernel[:6] = 0.0
    model.input_projection.set_weights([kernel, bias])
    x = data(n=4)
    base = predict(model, x)
    for column, moves in [(0, True), (1, False), (3, True)]:
        shifted = x.copy()
        shifted[:, column] += 0.5
        assert np.any(np.abs(predict(model, shifted) - base) > 1e-6) == moves
    assert SFNEBlock(input_dim=6, output_dim=2, **SMALL_BLOCK).splines is None


# --------------------------------------------------------------------------
# Serialization


def test_config_round_trip():
    model = SFNEBlock(input_dim=6, output_dim=3, local_kernel_size=5, name="block", **SMALL_BLOCK)
    config = model.get_config()
    twin = SFNEBlock.from_config(config)
    assert twin.get_config() == config
    for key in [*DIM_ARGUMENTS, "local_kernel_size"]:
        assert getattr(twin, key) == getattr(model, key)


@pytest.mark.parametrize(
    "splines",
    [{}, {"spline_columns": [1, 4], "spline_knots": 5}, {"n_members": 3}, {"dropout": 0.3}],
)
def test_keras_file_round_trip(tmp_path, splines):
    model = SFNEBlock(input_dim=6, output_dim=3, local_kernel_size=5, **splines, **SMALL_BLOCK)
    model.compile(optimizer="adam", loss="mse")
    x, y = data(n=32), data(n=32, d=3, seed=1)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "block.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    assert type(loaded) is SFNEBlock
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(predict(loaded, x), predict(model, x))
    # The optimizer state came along: training can go on.
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)


@needs_float64
def test_keras_file_round_trip_float64(tmp_path):
    model = SFNEBlock(input_dim=6, output_dim=2, dtype="float64", **SMALL_BLOCK)
    model.save(tmp_path / "block64.keras")
    loaded = keras.models.load_model(tmp_path / "block64.keras")
    x = data(dtype="float64")
    assert predict(loaded, x).dtype == np.float64
    np.testing.assert_array_equal(predict(loaded, x), predict(model, x))


@pytest.mark.parametrize("filename", ["weights.h5", "block.weights.h5"])
def test_weights_round_trip(tmp_path, filename):
    model = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)
    path = tmp_path / filename
    model.save_weights(path)
    assert path.exists()
    fresh = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)  # never called
    x = data()
    assert not np.allclose(predict(fresh, x), predict(model, x))
    fresh.load_weights(path)
    np.testing.assert_array_equal(predict(fresh, x), predict(model, x))


def test_plain_h5_weights_refuse_overwrite_when_asked(tmp_path):
    model = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)
    path = tmp_path / "weights.h5"
    model.save_weights(path)
    with pytest.raises(FileExistsError):
        model.save_weights(path, overwrite=False)


# --------------------------------------------------------------------------
# Training signal


def gradients(model, x, y):
    """Gradients of the MSE w.r.t. every trainable variable, on any backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.ops.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_fn(trainable):
            y_pred, _ = model.stateless_call(trainable, non_trainable, x, training=True)
            return jnp.mean(jnp.square(y_pred - y))

        grads = jax.grad(loss_fn)(trainable)
    else:
        pytest.skip(f"no gradient helper for the {backend!r} backend")
    return [None if g is None else keras.ops.convert_to_numpy(g) for g in grads]


def test_every_trainable_weight_gets_a_gradient():
    model = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)
    x, y = data(n=32), data(n=32, d=3, seed=1)
    grads = gradients(model, x, y)
    paths = [v.path for v in model.trainable_variables]
    assert any("slow_network" in p for p in paths)
    assert len(grads) == len(paths)
    dead = [
        p
        for p, g in zip(paths, grads)
        if g is None or not np.any(g != 0) or not np.all(np.isfinite(g))
    ]
    assert dead == []


def test_one_training_step_changes_every_weight():
    model = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    before = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    x, y = data(n=32), data(n=32, d=3, seed=1)
    model.train_on_batch(x, y)
    unchanged = [
        v.path
        for v, old in zip(model.trainable_variables, before)
        if np.array_equal(keras.ops.convert_to_numpy(v), old)
    ]
    assert unchanged == []


def test_output_depends_on_every_input_feature():
    model = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)
    x = data()
    base = predict(model, x)
    for j in range(x.shape[1]):
        bumped = x.copy()
        bumped[:, j] += 0.5
        assert not np.allclose(predict(model, bumped), base), f"feature {j} has no effect"


def test_rows_are_processed_independently():
    model = SFNEBlock(input_dim=6, output_dim=3, **SMALL_BLOCK)
    x = data()
    np.testing.assert_allclose(predict(model, x[:3]), predict(model, x)[:3], rtol=1e-5, atol=1e-6)


def test_fit_reduces_the_loss():
    model = SFNEBlock(input_dim=6, output_dim=1, **SMALL_BLOCK)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    x = data(n=64)
    y = (x[:, :1] * x[:, 1:2] + x[:, 2:3]).astype("float32")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


# --------------------------------------------------------------------------
# An ensemble sharing the block (n_members)


def test_members_share_every_weight_but_their_scales_and_heads():
    single = SFNEBlock(input_dim=6, output_dim=2, seed=0, **SMALL_BLOCK)
    ensemble = SFNEBlock(input_dim=6, output_dim=2, seed=0, n_members=4, **SMALL_BLOCK)
    assert single.get_config()["n_members"] == 1 and ensemble.get_config()["n_members"] == 4
    shapes = {w.path.split("/", 1)[1]: tuple(w.shape) for w in ensemble.weights}
    assert shapes["member_scaling/scales"] == (4, 6)
    assert shapes["output_projection/kernel"] == (4, 8, 2)
    assert shapes["output_projection/bias"] == (4, 2)
    # Every other weight is the single block's, and so are its initial values
    # (the same seed): the members add weights, they change none.
    for weight in single.weights:
        name = weight.path.split("/", 1)[1]
        if not name.startswith("output_projection"):
            twin = next(w for w in ensemble.weights if w.path.split("/", 1)[1] == name)
            np.testing.assert_array_equal(np.asarray(twin), np.asarray(weight))
    # The scales start as random signs, different between members.
    scales = np.asarray(ensemble.member_scaling.scales)
    assert set(np.unique(scales)) == {-1.0, 1.0} and len(np.unique(scales, axis=0)) == 4


def test_members_outputs_and_their_mean():
    model = SFNEBlock(input_dim=6, output_dim=2, seed=0, n_members=3, **SMALL_BLOCK)
    x = data(n=10)
    members = predict_members = keras.ops.convert_to_numpy(model(x, members=True))
    assert predict_members.shape == (10, 3, 2)
    np.testing.assert_allclose(predict(model, x), members.mean(axis=1), rtol=1e-6, atol=1e-6)
    # Symbolically too, as the training model is built.
    assert tuple(model(keras.Input((6,)), members=True).shape) == (None, 3, 2)
    assert tuple(model(keras.Input((6,))).shape) == (None, 2)
    # One member: members=True changes nothing.
    one = SFNEBlock(input_dim=6, output_dim=2, seed=0, **SMALL_BLOCK)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(one(x, members=True)), predict(one, x))


@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_rejects_bad_n_members(value):
    with pytest.raises((ValueError, TypeError), match="n_members"):
        SFNEBlock(input_dim=4, n_members=value)


# Dropout on the residual branches


def test_dropout_masks_training_only_and_is_seeded_after_the_weights():
    x = data()
    plain = SFNEBlock(input_dim=6, output_dim=2, seed=0, **SMALL_BLOCK)
    dropped = SFNEBlock(input_dim=6, output_dim=2, seed=0, dropout=0.5, **SMALL_BLOCK)
    assert plain.get_config()["dropout"] == 0.0 and dropped.get_config()["dropout"] == 0.5
    # The same initial weights: dropout's seed is drawn after theirs.
    for a, b in zip(plain.get_weights(), dropped.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Predictions use the whole network; training draws new masks each call.
    np.testing.assert_array_equal(predict(dropped, x), predict(plain, x))
    first, second = (keras.ops.convert_to_numpy(dropped(x, training=True)) for _ in range(2))
    assert not np.allclose(first, predict(plain, x)) and not np.allclose(first, second)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(plain(x, training=True)), predict(plain, x))
    # A twin seeded alike draws the same masks.
    twin = SFNEBlock(input_dim=6, output_dim=2, seed=0, dropout=0.5, **SMALL_BLOCK)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(twin(x, training=True)), first)


@pytest.mark.parametrize("value", [-0.1, 1.0, True, "0.2"])
def test_rejects_bad_dropout(value):
    with pytest.raises(ValueError, match="dropout"):
        SFNEBlock(input_dim=4, dropout=value)
