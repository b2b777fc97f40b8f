"""Tests of the SlowNetwork, HyperZZWOperator and SplineEncoding layers."""

import keras
import numpy as np
import pytest

from sfne_sklearn.layers import (
    HyperZZWOperator,
    MemberHeads,
    MemberScaling,
    SlowNetwork,
    SplineEncoding,
)


def assert_layer_round_trip(layer, inputs):
    """Build and call ``layer``, then check that its config makes a twin.

    In the spirit of Keras's ``run_layer_test``: the output shape matches
    ``compute_output_shape``, ``get_config`` survives Keras serialization, and
    the rebuilt layer with the same weights gives the same outputs.
    """
    outputs = keras.ops.convert_to_numpy(layer(inputs))
    input_shapes = keras.tree.map_structure(lambda x: tuple(np.shape(x)), inputs)
    assert tuple(layer.compute_output_shape(input_shapes)) == outputs.shape

    config = layer.get_config()
    twin = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(twin) is type(layer)
    assert twin.get_config() == config
    twin(inputs)  # build
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(twin(inputs)), outputs, rtol=1e-6)
    return outputs


def coordinates(n):
    return np.linspace(-1.0, 1.0, n, dtype="float32")[:, None]


# --------------------------------------------------------------------------
# SlowNetwork


@pytest.mark.parametrize("n_coordinates, channels", [(1, 1), (9, 2), (40, 3)])
def test_slow_network_shape_and_round_trip(n_coordinates, channels):
    layer = SlowNetwork(num_layers=2, units=8, kernel_channels=channels, num_frequencies=3)
    out = assert_layer_round_trip(layer, coordinates(n_coordinates))
    assert out.shape == (n_coordinates, channels)
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))


def test_slow_network_config_holds_every_argument():
    layer = SlowNetwork(num_layers=4, units=16, kernel_channels=2, num_frequencies=5, name="slow")
    config = layer.get_config()
    keys = ("num_layers", "units", "kernel_channels", "num_frequencies")
    assert {k: config[k] for k in keys} == {
        "num_layers": 4,
        "units": 16,
        "kernel_channels": 2,
        "num_frequencies": 5,
    }
    assert config["name"] == "slow"


def test_slow_network_parameters_do_not_depend_on_kernel_length():
    # An implicit (coordinate) network: the same weights give a kernel of
    # any length, which is why hidden_dim does not grow the slow network.
    short = SlowNetwork(num_layers=2, units=8)
    long = SlowNetwork(num_layers=2, units=8)
    short(coordinates(3))
    long(coordinates(300))
    assert short.count_params() == long.count_params()
    assert len(short.trainable_weights) == 2 * 2 + 2  # two hidden dense layers + head


def test_slow_network_is_a_function_of_the_coordinates_only():
    layer = SlowNetwork(num_layers=2, units=8, kernel_channels=1)
    full = keras.ops.convert_to_numpy(layer(coordinates(9)))
    # Evaluating a subset of coordinates gives the same kernel values there.
    part = keras.ops.convert_to_numpy(layer(coordinates(9)[2:5]))
    np.testing.assert_allclose(part, full[2:5], rtol=1e-5, atol=1e-7)
    # The kernel varies with position.
    assert np.ptp(full) > 0


@pytest.mark.parametrize("argument", ["num_layers", "units", "kernel_channels", "num_frequencies"])
@pytest.mark.parametrize("value", [0, -2, 1.5, True, "4", None])
def test_slow_network_rejects_bad_arguments(argument, value):
    with pytest.raises(ValueError, match=rf"`{argument}` must be a positive integer.*{argument}="):
        SlowNetwork(**{argument: value})


# --------------------------------------------------------------------------
# HyperZZWOperator


def reference_hyperzzw(z, kernel, kernel_size):
    """Plain-loop HyperZ.Z.W: out_i = z_i * sum_j K[i - j] z_j / sqrt(taps)."""
    batch, length = z.shape
    out = np.zeros_like(z, dtype="float64")
    taps = length if kernel_size is None else kernel_size
    for i in range(length):
        context = np.zeros(batch)
        for j in range(length):
            offset = i - j
            if kernel_size is None:
                k = kernel[offset % length]
            elif abs(offset) <= kernel_size // 2:
                k = kernel[offset + kernel_size // 2]
            else:
                k = 0.0
            context += k * z[:, j]
        out[:, i] = z[:, i] * context / np.sqrt(taps)
    return out


@pytest.mark.parametrize("kernel_size", [None, 1, 3, 5])
def test_hyperzzw_matches_reference_and_round_trips(kernel_size):
    rng = np.random.default_rng(0)
    length = 7
    z = rng.normal(size=(4, length)).astype("float32")
    kernel = rng.normal(size=(length if kernel_size is None else kernel_size,)).astype("float32")
    layer = HyperZZWOperator(kernel_size=kernel_size)
    out = assert_layer_round_trip(layer, [z, kernel])
    assert out.shape == (4, length)
    assert layer.num_taps == kernel.shape[0]
    assert layer.get_config()["kernel_size"] == kernel_size
    expected = reference_hyperzzw(z, kernel, kernel_size)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def influence(layer, z, kernel):
    """Boolean matrix: entry (j, i) is True when changing z_j moves output i."""
    base = keras.ops.convert_to_numpy(layer([z, kernel]))
    length = z.shape[1]
    moved = np.zeros((length, length), dtype=bool)
    for j in range(length):
        bumped = z.copy()
        bumped[:, j] += 1.0
        out = keras.ops.convert_to_numpy(layer([bumped, kernel]))
        moved[j] = np.any(np.abs(out - base) > 1e-6, axis=0)
    return moved


def test_local_operator_only_mixes_neighbours():
    rng = np.random.default_rng(1)
    length, kernel_size = 9, 3
    z = rng.normal(size=(3, length)).astype("float32")
    kernel = np.array([0.7, -1.1, 0.9], dtype="float32")
    moved = influence(HyperZZWOperator(kernel_size=kernel_size), z, kernel)
    distance = np.abs(np.arange(length)[:, None] - np.arange(length)[None, :])
    np.testing.assert_array_equal(moved, distance <= kernel_size // 2)


def test_global_operator_mixes_all_positions():
    rng = np.random.default_rng(2)
    length = 9
    z = rng.normal(size=(3, length)).astype("float32")
    kernel = rng.uniform(0.5, 1.5, size=length).astype("float32")
    moved = influence(HyperZZWOperator(kernel_size=None), z, kernel)
    assert moved.all()


def test_hyperzzw_weights_depend_on_the_sample():
    # Context-dependent weights: the same kernel gives each sample its own
    # effective linear map, so the output is not linear in z.
    layer = HyperZZWOperator(kernel_size=3)
    z = np.ones((1, 5), dtype="float32")
    kernel = np.ones(3, dtype="float32")
    once = keras.ops.convert_to_numpy(layer([z, kernel]))
    twice = keras.ops.convert_to_numpy(layer([2 * z, kernel]))
    np.testing.assert_allclose(twice, 4 * once, rtol=1e-6)


def test_hyperzzw_has_no_weights_of_its_own():
    layer = HyperZZWOperator(kernel_size=3)
    layer([np.ones((2, 6), dtype="float32"), np.ones(3, dtype="float32")])
    assert layer.weights == []


@pytest.mark.parametrize("value", [0, -3, 2.0, True, "3"])
def test_hyperzzw_rejects_non_positive_int_kernel_size(value):
    with pytest.raises(ValueError, match=r"`kernel_size` must be a positive integer.*kernel_size="):
        HyperZZWOperator(kernel_size=value)


@pytest.mark.parametrize("value", [2, 4])
def test_hyperzzw_rejects_even_kernel_size(value):
    with pytest.raises(ValueError, match=rf"`kernel_size` must be odd.*kernel_size={value}"):
        HyperZZWOperator(kernel_size=value)


def test_hyperzzw_needs_a_known_length():
    layer = HyperZZWOperator(kernel_size=3)
    with pytest.raises(ValueError, match="known feature length"):
        layer.build([(None, None), (3,)])


# --------------------------------------------------------------------------
# SplineEncoding


def test_spline_encoding_equals_scikit_learns_spline_transformer():
    from sklearn.preprocessing import SplineTransformer

    rng = np.random.default_rng(0)
    # Inside the knot range, below it and above it (linear extrapolation).
    x = rng.normal(scale=2.5, size=(300, 4)).astype("float32")
    low, high = [-3.0, -1.0, 0.0, -2.0], [3.0, 1.0, 4.0, 5.0]
    columns = [0, 2, 3]
    layer = SplineEncoding(columns, n_knots=6, low=[low[c] for c in columns],
                           high=[high[c] for c in columns])
    out = assert_layer_round_trip(layer, x)
    np.testing.assert_array_equal(out[:, :4], x)
    knots = np.column_stack([np.linspace(low[c], high[c], 6) for c in columns])
    reference = SplineTransformer(knots=knots, degree=3, extrapolation="linear")
    expected = reference.fit(x[:, columns]).transform(x[:, columns])
    assert out.shape == (300, 4 + 3 * 8) == (300, 4 + layer.n_outputs)
    np.testing.assert_allclose(out[:, 4:], expected, rtol=1e-4, atol=1e-5)


def test_spline_encoding_one_range_for_every_column_and_no_weights():
    layer = SplineEncoding([1, 0], n_knots=4)
    out = keras.ops.convert_to_numpy(layer(np.zeros((2, 3), dtype="float32")))
    assert out.shape == (2, 3 + 2 * 6)
    assert layer.low == [-3.0, -3.0] and layer.high == [3.0, 3.0]
    assert layer.weights == []
    # The splines sum to one inside the knot range (a partition of unity).
    np.testing.assert_allclose(out[:, 3:9].sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"columns": []}, "at least one"),
        ({"columns": [-1]}, "non-negative"),
        ({"columns": [0], "n_knots": 1}, "at least 2"),
        ({"columns": [0], "low": 1.0, "high": 1.0}, "must exceed"),
    ],
)
def test_spline_encoding_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SplineEncoding(**kwargs)


def test_spline_encoding_names_a_column_beyond_its_input():
    with pytest.raises(ValueError, match="encodes column 5, but its input has 3 features"):
        SplineEncoding([5])(np.zeros((2, 3), dtype="float32"))


def test_spline_pieces_are_the_nonzero_splines_inside_the_knots():
    from sfne_sklearn._splines import spline_features, spline_grid, spline_pieces

    # Values on the knots themselves (the ends included), between them and
    # beyond both ends.
    x = np.concatenate([np.linspace(-4.0, 4.0, 81), [-3.0, 3.0, 0.0]])[:, None]
    x = np.hstack([x, -x])
    grid = spline_grid([-3.0, -3.0], [3.0, 3.0], 5, np.float64)
    u, first, pieces = spline_pieces(x, grid)
    dense = np.zeros((len(x), 2, 7))
    np.put_along_axis(dense, first[..., None] + np.arange(4), pieces, axis=-1)
    beyond = (np.minimum(u, 0.0)[..., None] * grid["slope_low"]
              + np.maximum(u - grid["last"], 0.0)[..., None] * grid["slope_high"])
    expected = spline_features(x, grid).reshape(len(x), 2, 7)
    np.testing.assert_allclose(dense + beyond, expected, rtol=0, atol=1e-12)
    assert first.min() == 0 and first.max() == 3


# --------------------------------------------------------------------------
# MemberScaling and MemberHeads


def test_member_scaling_stacks_each_members_scaled_rows():
    layer = MemberScaling(n_members=3, seed=0)
    x = np.arange(8, dtype="float32").reshape(2, 4)
    out = assert_layer_round_trip(layer, x)
    scales = keras.ops.convert_to_numpy(layer.scales)
    np.testing.assert_array_equal(out, np.concatenate([x * s for s in scales]))
    # Seeded: the same signs again, other signs for another seed.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(MemberScaling(3, seed=0)(x)), out
    )
    assert not np.array_equal(keras.ops.convert_to_numpy(MemberScaling(3, seed=1)(x)), out)


def test_member_heads_project_each_members_rows_with_its_own_kernel():
    layer = MemberHeads(n_members=3, units=2, seed=0)
    rows = np.random.default_rng(0).normal(size=(3 * 5, 4)).astype("float32")
    layer.build(rows.shape)
    layer.bias.assign(np.random.default_rng(1).normal(size=(3, 2)))
    out = assert_layer_round_trip(layer, rows)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in (layer.kernel, layer.bias))
    for m in range(3):
        np.testing.assert_allclose(
            out[:, m], rows[5 * m : 5 * (m + 1)] @ kernel[m] + bias[m], rtol=1e-5, atol=1e-6
        )
    # Each member's kernel is initialised as a Dense kernel of its own:
    # Glorot's limit for 4 inputs and 2 outputs, not for 3 x that.
    limit = np.sqrt(6 / (4 + 2))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > limit / np.sqrt(3)
    assert not np.allclose(kernel[0], kernel[1])


@pytest.mark.parametrize("Layer, kwargs", [(MemberScaling, {}), (MemberHeads, {"units": 2})])
def test_member_layers_reject_bad_counts(Layer, kwargs):
    with pytest.raises(ValueError, match="n_members"):
        Layer(n_members=0, **kwargs)
