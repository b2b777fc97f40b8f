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


def test_compact_rows_moves_the_rows_to_the_front_in_place(monkeypatch):
    import sfne_sklearn._arrays as arrays
    from sfne_sklearn.training._arrays import compact_rows

    # Blocks of 2 rows: later blocks read rows that earlier ones passed over.
    monkeypatch.setattr(arrays, "_BLOCK_ELEMENTS", 6)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(11, 3))
    rows = np.sort(rng.choice(11, size=7, replace=False))
    expected = X[rows]
    compacted = compact_rows(X, rows)
    np.testing.assert_array_equal(compacted, expected)
    assert np.shares_memory(compacted, X) and compacted.ctypes.data == X.ctypes.data
    with pytest.raises(ValueError, match="increasing"):
        compact_rows(X, rows[::-1])


def test_a_fit_trains_on_its_own_feature_array(monkeypatch):
    # preprocessor="auto" makes one aligned array of features; the training
    # rows are moved within it, not copied out of it, and the result is the
    # same as training on a copy of them.
    from sfne_sklearn.estimators import _base

    X, y = regression_data(n_samples=300)
    seen = {}
    split = _base.BaseSFNE._validation_split

    def spy(self, Xt, target, sample_weight, seed, *, in_place=False):
        out = split(self, Xt, target, sample_weight, seed, in_place=in_place)
        seen.setdefault("shared", []).append(np.shares_memory(out[0], Xt))
        return out

    monkeypatch.setattr(_base.BaseSFNE, "_validation_split", spy)
    # float64: the given preprocessor's output is then used as it is.
    params = dict(epochs=2, hidden_dim=8, random_state=0, dtype="float64")
    auto = SFNERegressor(**params).fit(X, y)
    assert seen["shared"] == [True]
    from sfne_sklearn.preprocessing._columns import fit_preprocessor

    fitted, _ = fit_preprocessor("auto", X)
    given = SFNERegressor(preprocessor=fitted, **params).fit(X, y)  # cloned, refitted
    assert seen["shared"] == [True, False]
    np.testing.assert_array_equal(auto.predict(X), given.predict(X))
    # Narrowed to float32 (the default above 64 rows), the features are a
    # new array of the fit's own, whatever made them.
    params["dtype"] = "auto"
    auto = SFNERegressor(**params).fit(X, y)
    given = SFNERegressor(preprocessor=fitted, **params).fit(X, y)
    assert seen["shared"] == [True, False, True, True]
    assert auto.model_.dtype_policy.compute_dtype == "float32"
    np.testing.assert_array_equal(auto.predict(X), given.predict(X))


def test_the_training_pipeline_reads_the_rows_in_place():
    # tf.data's default rewrites would copy the captured rows into the
    # pipeline's graph: then a change to the array would not show.
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data")
    from sfne_sklearn.training._arrays import aligned_take
    from sfne_sklearn.training._loop import _epoch_dataset

    X = aligned_take(np.arange(12.0).reshape(4, 3), np.arange(4))
    y = aligned_take(np.ones((4, 1)), np.arange(4))
    batches = iter(_epoch_dataset(X, y, None, 4, 5, 0, False))
    np.testing.assert_array_equal(next(batches)[0], np.arange(12.0).reshape(4, 3))
    X[:] = -1.0
    last = [b[0] for b in batches][-1]
    np.testing.assert_array_equal(last, -np.ones((4, 3)))


def test_the_one_copy_imputer_and_the_block_scaler_equal_scikit_learns(monkeypatch):
    import sfne_sklearn._arrays as arrays
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler
    from sfne_sklearn.preprocessing._columns import BlockScaler, MeanImputer

    monkeypatch.setattr(arrays, "_BLOCK_ELEMENTS", 40)  # 10 rows, or 1 column, per block
    rng = np.random.RandomState(0)
    X = rng.normal(size=(95, 4)) * [1.0, 10.0, 0.1, 1e3] + [0.0, 5.0, -3.0, 1e4]
    X[::5, 1] = np.nan
    X[:, 3][X[:, 0] > 1] = np.nan
    X[:, 2] = np.nan  # never observed: dropped
    ours, theirs = MeanImputer().fit(X), SimpleImputer(add_indicator=True).fit(X)
    with pytest.warns(UserWarning, match=r"Skipping features without any observed values: \[2\]"):
        ours_all = ours.transform(X)
    with pytest.warns(UserWarning, match="Skipping features"):
        Z = theirs.transform(X)
    np.testing.assert_array_equal(ours_all, Z)
    assert ours_all.ctypes.data % 64 == 0
    with pytest.warns(UserWarning, match="Skipping features"):
        np.testing.assert_array_equal(ours.transform(X[:3]), theirs.transform(X[:3]))
    weights = rng.uniform(size=95)
    for sample_weight in (None, weights):
        scaler = BlockScaler().fit(Z[:20] + 7)  # refitted below: starts afresh
        scaler.fit(Z, sample_weight=sample_weight)
        reference = StandardScaler().fit(Z, sample_weight=sample_weight)
        np.testing.assert_allclose(scaler.n_samples_seen_, reference.n_samples_seen_, rtol=1e-14)
        np.testing.assert_allclose(scaler.mean_, reference.mean_, rtol=1e-12)
        np.testing.assert_allclose(scaler.var_, reference.var_, rtol=1e-12, atol=1e-24)
        np.testing.assert_array_equal(scaler.scale_ == 1, reference.scale_ == 1)
        np.testing.assert_allclose(scaler.transform(Z), reference.transform(Z), rtol=1e-12, atol=1e-12)
