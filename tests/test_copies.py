"""An in-memory fit holds few copies of X (benchmarks/fit_copies.py measures it)."""

import numpy as np
import pytest

from _frames import regression_data
from sfne_sklearn import SFNERegressor
from sfne_sklearn.preprocessing._columns import LogSkewed
from sfne_sklearn.training._arrays import aligned_take, as_tensor


def test_training_rows_are_aligned_and_shared_with_tensorflow():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow's tensors")
    X = np.arange(60.0).reshape(20, 3)
    rows = np.array([5, 1, 7])
    taken = aligned_take(X, rows)
    assert taken.ctypes.data % 64 == 0 and taken.flags.c_contiguous
    np.testing.assert_array_equal(taken, X[rows])
    tensor = as_tensor(taken)
    taken[0, 0] = -1.0  # the tensor sees it: no copy was made
    assert float(tensor[0, 0]) == -1.0
    # Anything else is copied, as tf.constant does.
    view = X[:, :2]
    assert float(as_tensor(view)[1, 1]) == 4.0


def test_the_validation_split_gives_aligned_training_rows():
    X, y = regression_data(n_samples=300)
    reg = SFNERegressor(epochs=1, random_state=0)
    reg._label_kind = None
    Xt, target, sw, validation = reg._validation_split(X, y.reshape(-1, 1), None, 0)
    assert Xt.ctypes.data % 64 == 0 and target.ctypes.data % 64 == 0
    assert len(Xt) + len(validation[0]) == 300


def test_log_skewed_in_column_blocks_equals_one_block(monkeypatch):
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.lognormal(size=500) ** 2, rng.normal(size=500), rng.exponential(size=500) ** 3]
    )
    X[::7, 0] = np.nan
    weights = rng.uniform(size=500)
    whole = LogSkewed().fit(X, sample_weight=weights)
    # One column per block.
    skews = [LogSkewed._block_skew(X[:, [j]], weights)[0][0] for j in range(3)]
    all_at_once = LogSkewed._block_skew(X, weights)[0]
    np.testing.assert_allclose(skews, all_at_once, rtol=1e-12)
    np.testing.assert_array_equal(whole.log_columns_, np.flatnonzero(all_at_once > 2.0))
