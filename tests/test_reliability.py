"""Bad input, divergence and concurrent predictions (docs/reliability.md)."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_array

from _frames import TINY, regression_data
from sfne_sklearn import SFNERegressor, SFNETransformer
from sfne_sklearn.estimators import _base


# Two-epoch fits always stop "while still improving".
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*still improving:sklearn.exceptions.ConvergenceWarning"
)


def with_value(X, value, where=(0, 0)):
    X = X.copy()
    X[where] = value
    return X


# ------------------------------------------------------- rejected at fit
def _sparse(X, y):
    return sp.csr_matrix(X), y


@pytest.mark.parametrize(
    "make, params, error, match",
    [
        (lambda X, y: (with_value(X, np.inf), y), {}, ValueError, "infinity"),
        (lambda X, y: (with_value(X, -np.inf), y), {}, ValueError, "infinity"),
        (lambda X, y: (with_value(X, np.nan), y), {"preprocessor": None}, ValueError, "NaN"),
        (lambda X, y: (X[:0], y[:0]), {}, ValueError, "0 sample"),
        (lambda X, y: (pd.DataFrame(X).iloc[:0], y[:0]), {}, ValueError, "0 sample"),
        (lambda X, y: (X[:, :0], y), {}, ValueError, "0 feature"),
        (lambda X, y: (X, y[:-1]), {}, ValueError, "inconsistent numbers of samples"),
        (lambda X, y: (X, with_value(y, np.nan, 0)), {}, ValueError, "Input y contains NaN"),
        (lambda X, y: (X, with_value(y, np.inf, 0)), {}, ValueError, "infinity"),
        (lambda X, y: (X, np.array(["a", "b"] * (len(y) // 2))), {}, ValueError, "strings"),
        (lambda X, y: (X, None), {}, ValueError, "requires y"),
        (lambda X, y: (X.reshape(len(X), 2, 2), y), {}, ValueError, "dim 3"),
        (
            lambda X, y: (np.array([[1.0, "a", None]] * len(y), dtype=object), y),
            {},
            ValueError,
            "could not convert string to float",
        ),
        (_sparse, {}, TypeError, "dense data is required"),
        (_sparse, {"preprocessor": None}, TypeError, "dense data is required"),
        (lambda X, y: (X, y * 1e200), {}, ValueError, "too large to standardise"),
        (lambda X, y: (X, y), {"hidden_dim": 0}, ValueError, "'hidden_dim' parameter"),
        (lambda X, y: (X, y), {"epochs": -1}, ValueError, "'epochs' parameter"),
        (lambda X, y: (X, y), {"loss": "not_a_loss"}, ValueError, "'loss' parameter"),
        (lambda X, y: (X, y), {"optimizer__learning_rate": 0.0}, ValueError, "learning_rate"),
        (lambda X, y: (X, y), {"optimizer": "nesterovish"}, ValueError, "'optimizer' parameter"),
        (lambda X, y: (X, y), {"batch_size": 0}, ValueError, "'batch_size' parameter"),
        (
            lambda X, y: (X, y),
            {"validation_fraction": 1.5},
            ValueError,
            "'validation_fraction' parameter",
        ),
        (lambda X, y: (X, y), {"preprocessor": "yes"}, ValueError, "'preprocessor' parameter"),
        (lambda X, y: (X[:1], y[:1]), {"early_stopping": True}, ValueError, "early_stopping"),
    ],
    ids=[
        "inf",
        "-inf",
        "nan-without-preprocessor",
        "empty",
        "empty-frame",
        "no-columns",
        "length-mismatch",
        "nan-y",
        "inf-y",
        "string-y",
        "no-y",
        "3d",
        "mixed-object-array",
        "sparse",
        "sparse-without-preprocessor",
        "y-past-float64-variance",
        "hidden_dim=0",
        "epochs=-1",
        "unknown-loss",
        "learning_rate=0",
        "unknown-optimizer",
        "batch_size=0",
        "validation_fraction=1.5",
        "unknown-preprocessor",
        "early-stopping-one-sample",
    ],
)
# Standardising y of 1e200 overflows inside StandardScaler before we raise.
@pytest.mark.filterwarnings("ignore:(overflow|invalid value) encountered:RuntimeWarning")
def test_bad_input_is_refused_at_fit(numpy_data, make, params, error, match):
    X, y = make(*numpy_data)
    with pytest.raises(error, match=match):
        SFNERegressor(**{**TINY, **params}).fit(X, y)


def test_bad_parameter_of_the_transformer_is_named():
    X, _ = regression_data(n_samples=10)
    with pytest.raises(ValueError, match="'output_dim' parameter"):
        SFNETransformer(**TINY, output_dim=0).fit(X)


# --------------------------------------------------- rejected at predict
@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda X: with_value(X, np.inf), ValueError, "infinity"),
        (lambda X: X[:, :3], ValueError, "X has 3 features, but SFNERegressor is expecting 4"),
        (lambda X: np.hstack([X, X[:, :1]]), ValueError, "X has 5 features"),
        (lambda X: X[:0], ValueError, "0 sample"),
        (lambda X: X.reshape(len(X), 2, 2), ValueError, "dim 3"),
        (lambda X: sp.csr_matrix(X), TypeError, "dense data is required"),
        (lambda X: np.full(X.shape, "a", dtype=object), ValueError, "could not convert string"),
    ],
    ids=["inf", "fewer-features", "more-features", "empty", "3d", "sparse", "strings"],
)
def test_bad_input_is_refused_at_predict(numpy_model, numpy_data, make, error, match):
    with pytest.raises(error, match=match):
        numpy_model.predict(make(numpy_data[0]))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda f: f.drop(columns="num"), "seen at fit time, yet now missing"),
        (lambda f: f.assign(extra=1.0), "unseen at fit time"),
        (lambda f: f.rename(columns={"num": "number"}), "unseen at fit time"),
        (lambda f: f[list(reversed(f.columns))], "same order"),
        (lambda f: f.iloc[:0], "0 sample"),
    ],
    ids=["missing", "extra", "renamed", "reordered", "empty"],
)
def test_wrong_dataframe_columns_at_predict(frame_model, frame_data, change, match):
    with pytest.raises(ValueError, match=match):
        frame_model.predict(change(frame_data[0]))


# Predicting checks a float array, or a DataFrame with the columns of fit,
# in a few µs, and anything else the full scikit-learn way: either way the
# outcome (value, error or warning) must be the same.
def _outcome(call):
    """The value of ``call()`` or its error, and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("value", repr(call().tolist()))  # NaN equals NaN here
        except Exception as exc:  # noqa: BLE001 - the error is the outcome
            result = ("error", type(exc), str(exc))
    return result, [(w.category, str(w.message)) for w in caught]


def _not_called(*args, **kwargs):
    raise AssertionError("called")


@pytest.fixture(scope="module")
def plain_model(numpy_data):
    return SFNERegressor(**TINY, preprocessor=None).fit(*numpy_data)


ARRAYS = {
    "float64": lambda X: X,
    "float32": lambda X: X.astype(np.float32),
    "fortran": np.asfortranarray,
    "nan": lambda X: with_value(X, np.nan),
    "inf": lambda X: with_value(X, np.inf),
    "-inf": lambda X: with_value(X, -np.inf),
    "sum-overflows": lambda X: np.full(X.shape, 1e308),
    "infinities-of-both-signs": lambda X: with_value(with_value(X, np.inf), -np.inf, (0, 1)),
    "fewer-features": lambda X: X[:, :3],
    "more-features": lambda X: np.hstack([X, X]),
    "1d": lambda X: X[0],
    "empty": lambda X: X[:0],
    "3d": lambda X: X.reshape(len(X), 2, 2),
    "object-numbers": lambda X: X.astype(object),
    "strings": lambda X: np.full(X.shape, "a", dtype=object),
    "ints": lambda X: np.round(X).astype(int),
    "float16": lambda X: X.astype(np.float16),
    "big-endian": lambda X: X.astype(">f8"),
    "matrix": np.asmatrix,
    "list": lambda X: X.tolist(),
}
# Only these take the quick check; every other goes the full way.
QUICK_ARRAYS = {"float64", "float32", "fortran"}


@pytest.mark.parametrize("model", ["numpy_model", "plain_model"])
@pytest.mark.parametrize("kind", list(ARRAYS))
def test_the_quick_check_of_arrays_changes_no_outcome(
    model, kind, numpy_data, request, monkeypatch
):
    est = request.getfixturevalue(model)
    X = ARRAYS[kind](numpy_data[0])
    quick = _outcome(lambda: est.predict(X))
    if kind in QUICK_ARRAYS:
        # These predict without scikit-learn's validation functions (but
        # for the cast of float32 features to a float64 network).
        with monkeypatch.context() as patched:
            patched.setattr(_base, "validate_data", _not_called)
            if X.dtype == est._dtype:
                patched.setattr(_base, "check_array", _not_called)
            est.predict(X)
    monkeypatch.setattr(_base, "_passes_check_array", lambda *args, **kwargs: False)
    assert _outcome(lambda: est.predict(X)) == quick


@pytest.mark.parametrize("kind", list(ARRAYS))
def test_the_quick_check_passes_only_arrays_check_array_returns_as_they_are(kind, numpy_data):
    X = ARRAYS[kind](numpy_data[0])
    dtypes = (np.float64, np.float32)
    quick = _base._passes_check_array(X, dtypes, n_features=4)
    assert quick == (kind in QUICK_ARRAYS)
    if quick:
        assert check_array(X, dtype=dtypes) is X


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f,
        lambda f: f.drop(columns="num"),
        lambda f: f.assign(extra=1.0),
        lambda f: f.rename(columns={"num": "number"}),
        lambda f: f[list(reversed(f.columns))],
        lambda f: f.iloc[:0],
        lambda f: f.set_axis(range(f.shape[1]), axis=1),
        lambda f: f.set_axis([*f.columns[:-1], 7], axis=1),
        # Equal to the names of fit, but no str: scikit-learn warns.
        lambda f: f.set_axis(pd.Index([np.str_(c) for c in f.columns], dtype=object), axis=1),
    ],
    ids=[
        "as-in-fit",
        "missing",
        "extra",
        "renamed",
        "reordered",
        "empty",
        "int-names",
        "mixed",
        "numpy-str-names",
    ],
)
def test_the_quick_check_of_column_names_changes_no_outcome(
    change, frame_model, frame_data, monkeypatch
):
    frame = change(frame_data[0])
    quick = _outcome(lambda: frame_model.predict(frame))
    monkeypatch.setattr(_base, "_has_fitted_names", lambda *args: False)
    assert _outcome(lambda: frame_model.predict(frame)) == quick


def test_text_in_a_numeric_column_names_the_column(frame_model, frame_data):
    frame = frame_data[0].copy()
    frame["num"] = frame["num"].astype(object)
    frame.loc[5, "num"] = "12,5"
    with pytest.raises(ValueError, match=r"Column 'num' was numeric at fit time, but holds '12,5' \(row 5\)"):
        frame_model.predict(frame)
    # Numbers in an object column still work.
    frame.loc[5, "num"] = 12.5
    assert np.all(np.isfinite(frame_model.predict(frame)))


def test_array_given_to_a_model_fitted_on_a_dataframe(numpy_data):
    X, y = numpy_data
    est = SFNERegressor(**TINY).fit(pd.DataFrame(X, columns=list("abcd")), y)
    # The internal ColumnTransformer selects columns by name: say so.
    with pytest.raises(
        ValueError, match=r"fitted on a DataFrame.*\['a', 'b', 'c', 'd'\], not a numpy.ndarray"
    ):
        est.predict(X)


def test_optimizer_must_be_a_name_or_an_optimizer_class(numpy_data):
    import keras

    X, y = numpy_data
    with pytest.raises(ValueError, match="optimizer"):
        SFNERegressor(**TINY, optimizer=keras.optimizers.SGD()).fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        SFNERegressor(**TINY, optimizer=dict).fit(X, y)
    est = SFNERegressor(**TINY, optimizer=keras.optimizers.SGD).fit(X, y)
    assert np.all(np.isfinite(est.predict(X)))


def test_unfitted_estimators_raise_not_fitted():
    X, _ = regression_data(n_samples=5)
    with pytest.raises(NotFittedError):
        SFNERegressor().predict(X)
    with pytest.raises(NotFittedError):
        SFNETransformer().transform(X)


# ----------------------------------------- accepted, with finite outputs
def assert_finite(values, n_rows):
    assert values.shape[0] == n_rows
    assert np.all(np.isfinite(values))


def test_nan_in_numeric_arrays_is_imputed(numpy_data, numpy_model):
    X, y = numpy_data
    X_nan = X.copy()
    X_nan[::3, 1] = np.nan
    assert_finite(SFNERegressor(**TINY).fit(X_nan, y).predict(X_nan), len(X))
    assert_finite(numpy_model.predict(X_nan), len(X))


def test_all_nan_columns(numpy_data, numpy_model, frame_data):
    X, y = numpy_data
    X_nan = X.copy()
    X_nan[:, 1] = np.nan
    # At predict time a whole missing column is imputed like any gap.
    assert_finite(numpy_model.predict(X_nan), len(X))
    # At fit time scikit-learn's imputer drops it, with a warning.
    with pytest.warns(UserWarning, match="Skipping features without any observed values"):
        est = SFNERegressor(**TINY).fit(X_nan, y)
    assert_finite(est.predict(X_nan), len(X))
    frame, y = frame_data
    frame = frame.assign(num=np.nan, text=None)
    with pytest.warns(UserWarning, match="Skipping features without any observed values"):
        est = SFNERegressor(**TINY).fit(frame, y)
    assert_finite(est.predict(frame), len(frame))


def test_unseen_categories_are_ignored(frame_model, frame_data):
    new = frame_data[0].head(3).copy()
    new["text"] = ["never", "seen", None]
    new["colour"] = pd.Categorical(["purple", "red", "teal"])
    assert_finite(frame_model.predict(new), 3)


@pytest.mark.parametrize("as_frame", [False, True], ids=["array", "frame"])
def test_a_single_sample(as_frame, numpy_data, frame_data):
    X, y = frame_data if as_frame else numpy_data
    one = X.iloc[:1] if as_frame else X[:1]
    assert_finite(SFNERegressor(**TINY).fit(one, y[:1]).predict(one), 1)


def test_a_single_row_at_predict(numpy_model, frame_model, numpy_data, frame_data):
    assert_finite(numpy_model.predict(numpy_data[0][:1]), 1)
    assert_finite(frame_model.predict(frame_data[0].iloc[:1]), 1)


def test_extreme_magnitudes_give_finite_predictions(numpy_data):
    X, y = numpy_data
    big = SFNERegressor(**TINY).fit(X * 1e30, y * 1e30)
    pred = big.predict(X * 1e30)
    assert_finite(pred, len(X))
    assert np.abs(pred).max() < 1e33  # on the target's scale


def test_constant_columns_and_targets(numpy_data):
    X, y = numpy_data
    X_const = X.copy()
    X_const[:, 0] = 5.0
    constant_y = np.full(len(X), 3.0)
    assert_finite(SFNERegressor(**TINY).fit(X_const, constant_y).predict(X_const), len(X))
    est = SFNERegressor(**TINY, preprocessor=None).fit(X_const, y)
    assert_finite(est.predict(X_const), len(X))


def test_object_array_of_numbers_and_frame_at_array_model(numpy_model, numpy_data):
    X, _ = numpy_data
    assert_finite(numpy_model.predict(X.astype(object)), len(X))
    with pytest.warns(UserWarning, match="fitted without feature names"):
        pred = numpy_model.predict(pd.DataFrame(X, columns=list("abcd")))
    np.testing.assert_allclose(pred, numpy_model.predict(X))


# ------------------------------------------------------------- divergence
class WeightRecorder(keras.callbacks.Callback):
    """Keeps the weights seen at the end of every epoch that reached it."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def test_divergence_keeps_the_last_finite_weights_and_warns():
    X, y = regression_data(n_samples=40)
    recorder = WeightRecorder()
    est = SFNERegressor(
        **{**TINY, "epochs": 20},
        optimizer="sgd",
        optimizer__learning_rate=10,  # an int: Keras wants a float, we convert
        n_iter_no_change=100,
        callbacks=[recorder],
    )
    with pytest.warns(ConvergenceWarning, match="diverged in epoch") as record:
        est.fit(X, y)
    # Keras warns too (numpy DeprecationWarnings where it converts TensorFlow
    # values, the plateau schedule's learning rate among them): look at ours.
    diverged = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    assert "optimizer__learning_rate" in str(diverged[0].message)
    assert 1 <= est.n_iter_ < 20
    assert len(est.history_["loss"]) == est.n_iter_ == len(recorder.weights)
    assert np.all(np.isfinite(est.history_["loss"]))
    assert np.all(np.isfinite(est.predict(X)))
    # The block's weights are those of the last epoch that ended finite.
    kept = recorder.weights[-1][: len(est.model_.get_weights())]
    for restored, expected in zip(est.model_.get_weights(), kept):
        np.testing.assert_array_equal(restored, expected)


def test_divergence_with_early_stopping_restores_the_best_epoch():
    X, y = regression_data(n_samples=60)
    est = SFNERegressor(
        **{**TINY, "epochs": 20},
        optimizer="sgd",
        optimizer__learning_rate=10.0,
        early_stopping=True,
        n_iter_no_change=100,
    )
    with pytest.warns(ConvergenceWarning, match="diverged in epoch"):
        est.fit(X, y)
    assert 1 <= est.best_epoch_ <= est.n_iter_
    assert est.best_epoch_ == int(np.argmin(est.history_["val_loss"])) + 1
    assert np.all(np.isfinite(est.predict(X)))


def test_divergence_of_the_transformer_warns_and_transforms_finitely():
    X, _ = regression_data(n_samples=40)
    est = SFNETransformer(
        **{**TINY, "epochs": 20}, output_dim=2, optimizer="sgd", optimizer__learning_rate=50.0
    )
    with pytest.warns(ConvergenceWarning, match="diverged in epoch"):
        est.fit(X)
    assert np.all(np.isfinite(est.transform(X)))


def test_divergence_in_the_first_epoch_raises():
    X, y = regression_data(n_samples=40)
    est = SFNERegressor(
        **TINY, optimizer="sgd", optimizer__learning_rate=1e4, batch_size=5, n_iter_no_change=100
    )
    with pytest.raises(ValueError, match="diverged in the first epoch.*no finite weights"):
        est.fit(X, y)
    assert not hasattr(est, "model_")


# The same rules, whatever the network: weights or a loss made non-finite.
class PoisonWeights(keras.callbacks.Callback):
    """Makes every weight NaN at the end of epoch ``epoch`` (1-based)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])


def test_non_finite_weights_are_replaced_by_the_last_finite_ones():
    X, y = regression_data(n_samples=40)
    recorder = WeightRecorder()
    est = SFNERegressor(**{**TINY, "epochs": 6}, callbacks=[recorder, PoisonWeights(3)])
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 4.*weights of epoch 3 are kept"):
        est.fit(X, y)
    assert est.n_iter_ == 3
    for restored, expected in zip(est.model_.get_weights(), recorder.weights[2]):
        np.testing.assert_array_equal(restored, expected)
    assert np.all(np.isfinite(est.predict(X)))


def nan_loss(y_true, y_pred):
    return keras.ops.sqrt(-1.0 - keras.ops.abs(y_pred - y_true))


def test_a_loss_never_finite_raises():
    X, y = regression_data(n_samples=20)
    with pytest.raises(ValueError, match="diverged in the first epoch.*nan"):
        SFNERegressor(**TINY, loss=nan_loss).fit(X, y)


# ------------------------------------------------------------ concurrency
@pytest.mark.parametrize("kind", ["numpy", "frame"])
def test_eight_threads_predict_like_serial_calls(kind, request):
    X, _ = request.getfixturevalue(f"{kind}_data")
    methods = [request.getfixturevalue(f"{kind}_model").predict]
    if kind == "numpy":
        methods.append(SFNETransformer(**TINY, output_dim=3).fit(X).transform)
    chunks = [X[i::8] if isinstance(X, np.ndarray) else X.iloc[i::8] for i in range(8)] * 4
    for method in methods:
        expected = [method(chunk) for chunk in chunks]
        # A copy fresh from pickle makes its first (tracing) call in the threads.
        fresh = getattr(pickle.loads(pickle.dumps(method.__self__)), method.__name__)
        with ThreadPoolExecutor(max_workers=8) as pool:
            for candidate in (fresh, method):
                for got, want in zip(pool.map(candidate, chunks), expected):
                    np.testing.assert_array_equal(got, want)
