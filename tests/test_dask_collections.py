"""Dask collections as data: lazy predictions, partial_fit, out-of-core fits.

Runs on dask's synchronous scheduler, in this process (no cluster).
"""

import numpy as np
import pandas as pd
import pytest

from _frames import FAST, QUICK, TINY, mixed_frame, regression_data
from sfne_sklearn import SFNEClassifier, SFNERegressor, SFNETransformer

dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def counted_frame(frame, npartitions, calls):
    """``frame`` as a dask DataFrame whose partitions record when they are read."""
    bounds = np.linspace(0, len(frame), npartitions + 1).astype(int)

    def load(i):
        calls.append(i)
        return frame.iloc[bounds[i] : bounds[i + 1]]

    return dd.from_map(load, list(range(npartitions)), meta=frame.iloc[:0], divisions=None)


def test_predict_on_a_dask_frame_is_lazy_and_equals_in_memory(frame_data, frame_model):
    X, _ = frame_data
    calls = []
    ddf = counted_frame(X, 3, calls)
    lazy = frame_model.predict(ddf)
    assert calls == []  # nothing read until asked
    assert type(lazy).__module__.startswith("dask")
    assert lazy.npartitions == 3
    result = lazy.compute()
    assert sorted(calls) == [0, 1, 2]
    assert isinstance(result, pd.Series)
    pd.testing.assert_index_equal(result.index, X.index)
    np.testing.assert_allclose(result.to_numpy(), frame_model.predict(X), rtol=1e-12)


def test_predict_on_a_dask_array_keeps_row_chunks(numpy_data, numpy_model):
    X, _ = numpy_data
    lazy = numpy_model.predict(da.from_array(X, chunks=(15, 2)))
    assert lazy.chunks == ((15, 15, 10),)
    np.testing.assert_allclose(lazy.compute(), numpy_model.predict(X), rtol=1e-12)


def test_classifier_and_transformer_methods_on_dask():
    X, y = regression_data(n_samples=60)
    labels = np.where(y > 0, "up", "down")
    clf = SFNEClassifier(**TINY).fit(X, labels)
    dX = da.from_array(X, chunks=(25, 4))
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        expected = getattr(clf, method)(X)
        got = getattr(clf, method)(dX)
        assert got.dtype == expected.dtype, method
        if method == "predict":
            np.testing.assert_array_equal(got.compute(), expected)
        else:
            # Partitions of 25 rows agree with one call on 60 to float64
            # rounding, not bit for bit: OpenBLAS computes the odd last row
            # of a matrix product with another kernel (1 ulp apart on
            # Haswell), for the default block with or without splines.
            np.testing.assert_allclose(got.compute(), expected, rtol=1e-12, atol=1e-15)
    frame = pd.DataFrame(X, columns=list("abcd"))
    proba = clf.fit(frame, labels).predict_proba(dd.from_pandas(frame, npartitions=2))
    assert list(proba.columns) == [0, 1]
    np.testing.assert_allclose(proba.compute().to_numpy(), clf.predict_proba(frame))

    tr = SFNETransformer(**{**TINY, "output_dim": 3}).fit(X, y)
    np.testing.assert_allclose(tr.transform(dX).compute(), tr.transform(X))


def test_dask_inputs_are_checked():
    X, y = regression_data(n_samples=40)
    reg = SFNERegressor(**TINY)
    with pytest.raises(Exception, match="not fitted"):
        reg.predict(da.from_array(X))
    reg.fit(X, y)
    with pytest.raises(ValueError, match="2-D dask Array.*ndim=1"):
        reg.predict(da.from_array(X[:, 0]))
    with pytest.raises(ValueError, match="features"):
        reg.predict(da.from_array(X[:, :3])).compute()


# ---------------------------------------------------------------- partial_fit
def chunks(X, y, n):
    return list(zip(np.array_split(X, n), np.array_split(y, n)))


def partial_loop(estimator, parts, passes=1, **kwargs):
    for _ in range(passes):
        for X_part, y_part in parts:
            estimator.partial_fit(X_part, y_part, **kwargs)
    return estimator


def test_partial_fit_loop_learns_and_is_reproducible():
    X, y = regression_data(n_samples=600)
    parts = chunks(X, y, 3)
    params = {**QUICK, "random_state": 0}
    reg = partial_loop(SFNERegressor(**params), parts, passes=4)
    assert reg.n_iter_ == 12 and len(reg.history_["loss"]) == 12
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]
    assert reg.score(X, y) > 0.6
    again = partial_loop(SFNERegressor(**params), parts, passes=4)
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    # Each call goes on from the last: one pass less gives other weights.
    fewer = partial_loop(SFNERegressor(**params), parts[:2], passes=1)
    assert not np.allclose(fewer.predict(X), partial_loop(
        SFNERegressor(**params), parts, passes=1).predict(X))


def test_partial_fit_fits_the_preprocessor_on_the_first_chunk_only():
    X, y = mixed_frame(n_samples=80)
    reg = SFNERegressor(**TINY).partial_fit(X.iloc[:40], y[:40])
    preprocessor, y_mean = reg.preprocessor_, reg._y_mean.copy()
    reg.partial_fit(X.iloc[40:], y[40:] + 100.0)
    assert reg.preprocessor_ is preprocessor
    np.testing.assert_array_equal(reg._y_mean, y_mean)
    assert reg.predict(X).shape == (80,)
    with pytest.raises(ValueError, match="feature names"):
        reg.partial_fit(X.drop(columns="num").iloc[:10], y[:10])


def test_partial_fit_takes_a_fitted_preprocessor_as_it_is():
    from sklearn.preprocessing import StandardScaler

    X, y = regression_data(n_samples=60)
    scaler = StandardScaler().fit(X * 10)
    reg = SFNERegressor(**{**TINY, "preprocessor": scaler}).partial_fit(X[:30], y[:30])
    assert reg.preprocessor_ is scaler
    np.testing.assert_array_equal(scaler.mean_, (X * 10).mean(axis=0))


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_partial_fit_after_fit_and_after_a_pickle_continues(dropout):
    import pickle

    X, y = regression_data(n_samples=60)
    reg = SFNERegressor(**TINY, dropout=dropout).fit(X, y)
    before = reg.predict(X)
    reg.partial_fit(X, y)
    assert reg.n_iter_ == TINY["epochs"] + 1
    assert not np.allclose(reg.predict(X), before)
    restored = pickle.loads(pickle.dumps(reg))
    assert "_trainer" not in restored.__dict__
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    # The copy goes on with the same weights, optimizer state and dropout
    # masks.
    restored.partial_fit(X, y)
    reg.partial_fit(X, y)
    assert restored.n_iter_ == TINY["epochs"] + 2
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    # fit starts over.
    reg.fit(X, y)
    assert reg.n_iter_ == TINY["epochs"] and "_trainer" not in reg.__dict__


def test_classifier_partial_fit_needs_every_class_first():
    X, y = regression_data(n_samples=90)
    labels = np.array(["low", "mid", "high"])[np.digitize(y, [-1, 1])]
    clf = SFNEClassifier(**TINY)
    with pytest.raises(ValueError, match="classes= on its first call"):
        clf.partial_fit(X, labels)
    lacking = labels != "high"
    clf.partial_fit(X[lacking], labels[lacking], classes=["low", "mid", "high"])
    assert clf.classes_.tolist() == ["high", "low", "mid"]
    assert clf.predict_proba(X).shape == (90, 3)
    clf.partial_fit(X, labels)
    with pytest.raises(ValueError, match="not in classes.*'top'"):
        clf.partial_fit(X[:3], np.array(["top", "low", "mid"]))
    with pytest.raises(ValueError, match="differ from the classes"):
        clf.partial_fit(X, labels, classes=["low", "high"])
    with pytest.raises(ValueError, match="balanced"):
        SFNEClassifier(class_weight="balanced").partial_fit(X, labels, classes=np.unique(labels))


def test_transformer_partial_fit_reconstructs_its_input():
    X, _ = regression_data(n_samples=60)
    tr = SFNETransformer(**{**TINY, "output_dim": 3})
    tr.partial_fit(X[:30]).partial_fit(X[30:])
    assert tr.n_iter_ == 2 and tr.transform(X).shape == (60, 3)
    with pytest.raises(ValueError, match="without a target y"):
        tr.partial_fit(X[:30], X[:30, 0])


def test_dask_ml_incremental_trains_chunk_by_chunk():
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = regression_data(n_samples=200)
    dX, dy = da.from_array(X, chunks=(50, 4)), da.from_array(y, chunks=50)
    # dask-ml deep-copies the estimator for every block: the optimizer's
    # state must survive the copy for this to equal a plain loop.
    inc = wrappers.Incremental(
        SFNERegressor(**{**QUICK, "random_state": 0}), shuffle_blocks=False
    )
    inc.fit(dX, dy)
    assert inc.estimator_.n_iter_ == 4
    loop = partial_loop(SFNERegressor(**{**QUICK, "random_state": 0}), chunks(X, y, 4))
    np.testing.assert_allclose(inc.estimator_.predict(X), loop.predict(X), rtol=1e-10)


# ------------------------------------------------------------- out-of-core fit
def test_preprocessor_statistics_from_dask_reductions_equal_in_memory():
    from sfne_sklearn.preprocessing._columns import fit_preprocessor
    from sfne_sklearn.preprocessing._dask_stats import fit_auto_on_dask

    X, _ = mixed_frame(n_samples=300)
    X["skewed"] = np.random.RandomState(0).lognormal(size=300) ** 3
    # A category and a gap that the first partition does not have.
    X["colour"] = X["colour"].astype(object)
    X.loc[250:, "colour"] = "purple"
    X["late_gap"] = np.arange(300.0)
    X.loc[299, "late_gap"] = np.nan
    ddf = dd.from_pandas(X, npartitions=3)
    fitted, lengths = fit_auto_on_dask(ddf, ddf.get_partition(0).compute())
    expected, _ = fit_preprocessor("auto", X)
    assert lengths == [100, 100, 100]
    np.testing.assert_array_equal(fitted.get_feature_names_out(), expected.get_feature_names_out())
    np.testing.assert_allclose(fitted.transform(X), expected.transform(X), atol=1e-12)
    logged = fitted.named_transformers_["num"].named_steps["log"].log_columns_
    np.testing.assert_array_equal(
        logged, expected.named_transformers_["num"].named_steps["log"].log_columns_
    )
    assert logged.size  # the skewed column is logged


@pytest.fixture(scope="module")
def dask_regression():
    X, y = mixed_frame(n_samples=300)
    ddf = dd.from_pandas(X.assign(target=y), npartitions=3)
    return X, y, ddf.drop(columns="target"), ddf["target"]


def test_fit_on_a_dask_frame_streams_reproducibly_close_to_in_memory(dask_regression):
    X, y, dX, dy = dask_regression
    params = {**FAST, "epochs": 6, "random_state": 0}
    reg = SFNERegressor(**params).fit(dX, dy)
    assert reg.n_iter_ == 6 and len(reg.history_["val_loss"]) == 6
    assert 1 <= reg.best_epoch_ <= 6
    again = SFNERegressor(**params).fit(dX, dy)
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    in_memory = SFNERegressor(**params).fit(X, y)
    assert reg.score(X, y) > 0.5
    assert abs(reg.score(X, y) - in_memory.score(X, y)) < 0.15
    np.testing.assert_array_equal(reg.feature_names_in_, X.columns)
    lazy = reg.predict(dX)
    np.testing.assert_allclose(lazy.compute().to_numpy(), reg.predict(X))


@pytest.mark.parametrize("schedule", ["plateau", "constant"])
def test_fit_on_a_dask_frame_follows_the_in_memory_learning_rate_schedule(
    dask_regression, schedule
):
    # A tol no epoch beats: the plateau schedule halves the rate after each
    # stalled epoch, early stopping ends the fit after n_iter_no_change.
    X, y, dX, dy = dask_regression
    params = {**QUICK, "epochs": 10, "tol": 10.0, "n_iter_no_change": 4, "random_state": 0,
              "learning_rate_schedule": schedule}
    streamed = SFNERegressor(**params).fit(dX, dy)
    in_memory = SFNERegressor(**params).fit(X, y)
    assert streamed.n_iter_ == in_memory.n_iter_ == 5
    rates = streamed.history_.get("learning_rate")
    assert rates == in_memory.history_.get("learning_rate")
    if schedule == "plateau":
        np.testing.assert_allclose(rates, 3e-3 * np.array([1, 1, 0.5, 0.25, 0.125]), rtol=1e-6)
    else:
        assert rates is None or set(rates) == {pytest.approx(3e-3)}


def test_fit_on_a_dask_frame_reports_progress_and_calls_user_callbacks(dask_regression, capfd):
    import keras

    class Epochs(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seen = []
            assert self.params["epochs"] == 5

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append((epoch, sorted(logs)))

    X, y, dX, dy = dask_regression
    recorder = Epochs()
    reg = SFNERegressor(**{**QUICK, "random_state": 0, "verbose": 2, "callbacks": [recorder]})
    reg.fit(dX, dy)
    assert recorder.seen == [
        (epoch, ["learning_rate", "loss", "val_loss"]) for epoch in range(reg.n_iter_)
    ]
    lines = capfd.readouterr().out.splitlines()
    assert lines[0] == "SFNERegressor: training for at most 5 epochs"
    assert [line.split(" - ")[0] for line in lines[1:-1]] == [f"Epoch {e}/5" for e in range(1, 6)]
    assert "val_loss" in lines[1] and lines[-1].startswith("SFNERegressor: stopped after 5 epochs")


def test_a_diverging_fit_on_a_dask_frame_keeps_the_last_finite_weights(dask_regression):
    # As in memory (tests/test_reliability.py): a warning and the weights of
    # the last finite epoch, or an error where the first epoch diverged.
    import keras
    from sklearn.exceptions import ConvergenceWarning

    class PoisonAfterThird(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.kept = self.model.layers[1].get_weights()
                self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])

    X, y, dX, dy = dask_regression
    poison = PoisonAfterThird()
    reg = SFNERegressor(**{**TINY, "epochs": 6, "early_stopping": False, "callbacks": [poison]})
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 4.*weights of epoch 3 are kept"):
        reg.fit(dX, dy)
    assert reg.n_iter_ == 3 and np.all(np.isfinite(reg.history_["loss"]))
    for restored, expected in zip(reg.model_.get_weights(), poison.kept):
        np.testing.assert_array_equal(restored, expected)
    assert np.all(np.isfinite(reg.predict(X)))
    diverging = SFNERegressor(**TINY, optimizer="sgd", optimizer__learning_rate=1e4)
    with pytest.raises(ValueError, match="diverged in the first epoch.*no finite weights"):
        diverging.fit(dX, dy)
    assert not hasattr(diverging, "model_")


def test_classifier_fit_on_dask_arrays():
    X, y = regression_data(n_samples=240)
    labels = np.where(y > 0, "up", "down")
    clf = SFNEClassifier(**{**FAST, "epochs": 4, "random_state": 0, "early_stopping": False})
    clf.fit(da.from_array(X, chunks=(80, 2)), da.from_array(labels, chunks=120))
    assert clf.classes_.tolist() == ["down", "up"] and "val_loss" not in clf.history_
    assert clf.score(X, labels) > 0.7


def test_fit_on_dask_says_what_it_cannot_do(dask_regression):
    from sklearn.preprocessing import StandardScaler

    X, y, dX, dy = dask_regression
    with pytest.raises(ValueError, match="no sample_weight"):
        SFNERegressor(**TINY).fit(dX, dy, sample_weight=np.ones(len(X)))
    with pytest.raises(ValueError, match="preprocessor='auto'.*partial_fit"):
        SFNERegressor(**{**TINY, "preprocessor": StandardScaler()}).fit(dX, dy)
    with pytest.raises(ValueError, match="dask y"):
        SFNERegressor(**TINY).fit(dX, y)
    with pytest.raises(ValueError, match="pass y as a dask Series"):
        SFNERegressor(**TINY).fit(dX, dy.to_dask_array(lengths=True))


@pytest.mark.parametrize("target", ["none", "numbers", "labels"])
def test_transformer_fit_on_a_dask_frame(dask_regression, target):
    X, y, dX, dy = dask_regression
    if target == "labels":
        y = np.where(y > np.median(y), "high", "low")
        dy = dd.from_pandas(pd.Series(y, name="target"), npartitions=dX.npartitions)
    params = {**FAST, "output_dim": 4, "epochs": 4, "random_state": 0}
    fit_y = None if target == "none" else dy
    tr = SFNETransformer(**params).fit(dX, fit_y)
    assert tr.n_iter_ == 4 and len(tr.history_["val_loss"]) == 4
    assert ("classes_" in tr.__dict__) == (target == "labels")
    if target == "labels":
        assert tr.classes_.tolist() == ["high", "low"]
    # The loss went down: the network learnt its target, whatever its kind.
    assert tr.history_["loss"][-1] < tr.history_["loss"][0]
    features = tr.transform(X)
    assert features.shape == (len(X), 4) and np.all(np.isfinite(features))
    again = SFNETransformer(**params).fit(dX, fit_y)
    np.testing.assert_array_equal(again.transform(X), features)
    np.testing.assert_allclose(tr.transform(dX).compute(), features)
