"""SFNEClassifier: labels, probabilities, class weights, meta-estimators."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV
from sklearn.multiclass import OneVsRestClassifier

from sfne_sklearn import SFNEClassifier, SFNETransformer

from _frames import FAST, QUICK, mixed_frame


# Few epochs on purpose: these tests check behaviour, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def blobs(n_samples=120, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    codes = np.arange(n_samples) % n_classes
    X = rng.normal(size=(n_samples, 4)) + 2.5 * np.eye(4)[codes % 4]
    return X, codes


@pytest.fixture(scope="module")
def multiclass_fit():
    X, codes = blobs()
    y = np.array(["cat", "dog", "emu"])[codes]
    return SFNEClassifier(**FAST, random_state=0).fit(X, y), X, y


def test_is_a_classifier():
    assert is_classifier(SFNEClassifier())


def test_multiclass_labels_probabilities_and_scores(multiclass_fit):
    clf, X, y = multiclass_fit
    assert clf.classes_.tolist() == ["cat", "dog", "emu"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-10, atol=1e-12)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X), 3)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(pred, clf.classes_[scores.argmax(axis=1)])
    assert clf.score(X, y) > 0.9
    assert clf.n_outputs_ == 3


def test_binary_has_one_logit_and_two_probability_columns():
    X, codes = blobs(n_classes=2)
    y = np.where(codes == 1, "yes", "no")
    clf = SFNEClassifier(**QUICK, random_state=0).fit(X, y)
    assert clf.n_outputs_ == 1
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    # The logit is that of classes_[1].
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
    # Log-probabilities stay finite where probabilities round to 0 or 1.
    far = X * 1e3
    assert np.all(np.isfinite(clf.predict_log_proba(far)))


@pytest.mark.parametrize(
    "make_y, expected_dtype",
    [
        (lambda c: c, np.int64),
        (lambda c: c.astype(bool), np.bool_),
        (lambda c: np.array(["a", "b"])[c], np.str_),
        (lambda c: pd.Series(pd.Categorical(np.array(["lo", "hi"])[c])), object),
        (lambda c: pd.Series(c, dtype="Int64"), np.int64),
        (lambda c: pd.Series(c.astype(bool), dtype="boolean"), np.bool_),
    ],
    ids=["int", "bool", "str", "categorical", "Int64", "boolean"],
)
def test_predict_returns_labels_of_the_type_of_y(make_y, expected_dtype):
    X, codes = blobs(n_samples=60, n_classes=2)
    y = make_y(codes)
    clf = SFNEClassifier(**QUICK, random_state=0).fit(X, y)
    pred = clf.predict(X)
    assert np.issubdtype(pred.dtype, expected_dtype) or pred.dtype == expected_dtype
    assert set(pred.tolist()) <= set(np.asarray(y).tolist())
    assert clf.classes_.tolist() == sorted(set(np.asarray(y).tolist()))


def test_multilabel_indicator_target():
    X, codes = blobs(n_samples=90)
    Y = np.column_stack([codes == 0, codes == 1, codes != 1]).astype(int)
    clf = SFNEClassifier(**FAST, random_state=0).fit(X, Y)
    assert clf.classes_.tolist() == [0, 1, 2]
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba >= 0) & (proba <= 1))
    pred = clf.predict(X)
    assert pred.dtype == Y.dtype
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert (pred == Y).mean() > 0.9


def test_class_weight_is_a_sample_weight_per_class():
    X, codes = blobs(n_samples=60, n_classes=2)
    y = np.where(codes == 1, "b", "a")
    sw = np.linspace(0.5, 2, len(y))
    by_class = SFNEClassifier(**QUICK, class_weight={"a": 3.0}, random_state=0).fit(
        X, y, sample_weight=sw
    )
    by_row = SFNEClassifier(**QUICK, random_state=0).fit(
        X, y, sample_weight=sw * np.where(y == "a", 3.0, 1.0)
    )
    np.testing.assert_allclose(by_class.predict_proba(X), by_row.predict_proba(X), rtol=1e-10)


@pytest.mark.parametrize("n_members", [1, 3])
def test_balanced_class_weight_equals_repeated_rows(n_members):
    """A weight of k is k copies of a row, for "balanced" weights too (and each member's)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = np.array([0] * 20 + [1] * 10)
    # "balanced": class 0 weighs 30 / (2 * 20) = 0.75, class 1 weighs 1.5,
    # a ratio of 1 to 2: the same fit as class 1's rows given twice.
    params = dict(QUICK, early_stopping=False, n_members=n_members, random_state=0)
    balanced = SFNEClassifier(**params, class_weight="balanced").fit(X, y)
    repeated = np.r_[np.arange(30), np.arange(20, 30)]
    copies = SFNEClassifier(**params).fit(X[repeated], y[repeated])
    np.testing.assert_allclose(balanced.predict_proba(X), copies.predict_proba(X), rtol=1e-7)


def test_fits_are_reproducible_with_random_state(multiclass_fit):
    clf, X, y = multiclass_fit
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_early_stopping_split_is_stratified():
    X, codes = blobs(n_samples=300)
    y = np.where(codes == 0, "rare", "common")
    y[np.flatnonzero(y == "rare")[10:]] = "common"  # 10 rare rows out of 300
    clf = SFNEClassifier(**QUICK, random_state=0)
    clf.fit(X, y)
    assert "val_loss" in clf.history_
    target = clf._encode_labels(X, y).target
    # 30 validation rows hold 1 of the 10 rare rows, whatever the seed.
    for seed in range(10):
        _, train_target, _, (_, val_target) = clf._validation_split(X, target, None, seed)
        assert clf.classes_[1] == "rare"
        assert val_target[:, 0].sum() == 1 and train_target[:, 0].sum() == 9


@pytest.mark.parametrize(
    "y, fit_params, match",
    [
        (np.array(["only"] * 40), {}, "at least 2 classes in y; y has one class: 'only'"),
        (np.array(["a"] * 299 + ["b"]), {}, "the class 'b' has a single training row"),
        (np.linspace(0, 1, 40), {}, "Unknown label type"),
        (
            np.array(["a", "b"] * 20),
            {"sample_weight": np.tile([1.0, 0.0], 20)},
            "only one class has one: 'a'",
        ),
    ],
    ids=["one-class", "one-row-class", "continuous", "one-weighted-class"],
)
def test_bad_targets_give_errors_that_name_the_class(y, fit_params, match):
    X = np.random.RandomState(0).normal(size=(len(y), 3))
    with pytest.raises(ValueError, match=match):
        SFNEClassifier(**QUICK).fit(X, y, **fit_params)


def test_class_weight_errors():
    X, codes = blobs(n_samples=40, n_classes=2)
    with pytest.raises(ValueError, match=r"not classes of y: \[7\]"):
        SFNEClassifier(**QUICK, class_weight={7: 2.0}).fit(X, codes)
    Y = np.column_stack([codes, 1 - codes])
    with pytest.raises(ValueError, match="class_weight with a multilabel y"):
        SFNEClassifier(**QUICK, class_weight="balanced").fit(X, Y)


def test_column_vector_y_warns_and_is_raveled():
    from sklearn.exceptions import DataConversionWarning

    X, codes = blobs(n_samples=40, n_classes=2)
    with pytest.warns(DataConversionWarning):
        clf = SFNEClassifier(**QUICK, random_state=0).fit(X, codes.reshape(-1, 1))
    assert clf.predict(X).shape == (40,)


def test_dataframe_with_mixed_types_and_missing_values():
    frame, y = mixed_frame()
    labels = np.where(y > np.median(y), "high", "low")
    clf = SFNEClassifier(**QUICK, random_state=0).fit(frame, labels)
    assert clf.predict(frame.iloc[:5]).tolist() == clf.predict(frame).tolist()[:5]
    assert clf.predict_proba(frame.iloc[[3]]).shape == (1, 2)


def test_pickle_round_trip_keeps_probabilities(multiclass_fit):
    clf, X, _ = multiclass_fit
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(copy.predict(X), clf.predict(X))


@pytest.mark.parametrize(
    "make",
    [
        lambda est: CalibratedClassifierCV(est, cv=2),
        lambda est: FixedThresholdClassifier(est, threshold=0.3),
        lambda est: TunedThresholdClassifierCV(est, cv=2),
        lambda est: OneVsRestClassifier(est),
        lambda est: StackingClassifier([("sfne", est)], LogisticRegression(), cv=2),
    ],
    ids=["calibrated", "fixed-threshold", "tuned-threshold", "one-vs-rest", "stacking"],
)
def test_works_inside_scikit_learn_meta_estimators(make):
    X, codes = blobs(n_samples=80, n_classes=2)
    y = np.where(codes == 1, "pos", "neg")
    meta = make(SFNEClassifier(**QUICK, random_state=0)).fit(X, y)
    proba = meta.predict_proba(X)
    assert proba.shape == (80, 2)
    assert set(meta.predict(X).tolist()) <= {"neg", "pos"}


# ----------------------------------------------------- transformer on labels
def test_transformer_learns_features_from_class_labels():
    X, codes = blobs(n_samples=90)
    y = np.array(["cat", "dog", "emu"])[codes]
    sfne = SFNETransformer(**QUICK, output_dim=6, random_state=0).fit(X, y)
    assert sfne.classes_.tolist() == ["cat", "dog", "emu"]
    assert sfne._training_loss() == "softmax_cross_entropy"
    assert sfne.transform(X).shape == (90, 6)
    # Integer codes are numbers unless said otherwise.
    sfne.fit(X, codes)
    assert not hasattr(sfne, "classes_") and sfne._training_loss() == "mse"
    sfne.set_params(target_type="classes").fit(X, codes)
    assert sfne.classes_.tolist() == [0, 1, 2]


def test_transformer_features_separate_the_classes():
    X, codes = blobs(n_samples=150, n_classes=2)
    noisy = np.c_[X, np.random.RandomState(1).normal(size=(150, 6))]
    y = codes.astype(bool)
    sfne = SFNETransformer(**FAST, output_dim=4, random_state=0).fit(noisy, y)
    features = sfne.transform(noisy)
    score = LogisticRegression().fit(features, y).score(features, y)
    assert score > 0.95


def test_transformer_pickled_before_target_type_keeps_numeric_targets():
    X, codes = blobs(n_samples=60)
    sfne = SFNETransformer(**QUICK, output_dim=3, random_state=0).fit(X, codes)
    state = sfne.__getstate__()
    del state["target_type"]  # as written by sfne_sklearn 0.1.0
    old = SFNETransformer.__new__(SFNETransformer)
    old.__setstate__(state)
    assert old.get_params()["target_type"] == "continuous"
    np.testing.assert_array_equal(old.transform(X), sfne.transform(X))


@pytest.mark.parametrize("kind, n_outputs", [("binary", 1), ("multiclass", 4), ("multilabel-indicator", 3)])
def test_fit_temperature_finds_the_scale_of_overconfident_logits(kind, n_outputs):
    from scipy.special import expit, softmax

    from sfne_sklearn.estimators import _labels

    rng = np.random.RandomState(0)
    logits = rng.normal(scale=2.0, size=(4000, n_outputs))
    if kind == "multiclass":
        p = softmax(logits, axis=1)
        target = np.eye(n_outputs)[[rng.choice(n_outputs, p=row) for row in p]]
    else:
        target = (rng.uniform(size=logits.shape) < expit(logits)).astype(float)
    # Logits 2.5x too large are what an over-confident network outputs.
    found = _labels.fit_temperature(2.5 * logits, target, kind)
    assert found == pytest.approx(2.5, rel=0.1)
    assert _labels.fit_temperature(logits, target, kind) == pytest.approx(1.0, rel=0.1)
    # Logits that classify every row right: the loss keeps falling as T
    # shrinks; T stays at 1 rather than sharpening the model.
    right = np.where(target > 0, 3.0, -3.0)
    assert _labels.fit_temperature(right, target, kind) == pytest.approx(1.0, abs=1e-3)
    weights = rng.uniform(0.5, 2.0, size=len(target))
    weighted = _labels.fit_temperature(2.5 * logits, target, kind, weights)
    repeated = _labels.cross_entropy(2.5 * logits / weighted, target, kind, weights)
    assert repeated <= _labels.cross_entropy(2.5 * logits / found, target, kind, weights) + 1e-9


def test_early_stopping_divides_the_logits_by_the_temperature_of_the_held_out_rows():
    from sklearn.utils import check_random_state

    from sfne_sklearn.estimators import _labels

    X, codes = blobs(n_samples=300)
    X = X + np.random.RandomState(1).normal(scale=1.5, size=X.shape)  # overlapping classes
    # A high learning rate makes the network over-confident on held-out rows.
    # The blobs are not standardised (preprocessor=None), so the splines'
    # knots on ±3 would not fit them: the scenario is the plain block's, in
    # float64 (in float32 the JAX fit happens not to over-fit).
    params = {**FAST, "optimizer__learning_rate": 0.03, "spline_knots": None, "dtype": "float64"}
    clf = SFNEClassifier(**params, preprocessor=None, random_state=0).fit(X, codes)
    assert "val_loss" in clf.history_
    assert clf.temperature_ > 1.01
    # The split the fit made: its seed is the first one drawn from random_state.
    split_seed = int(check_random_state(0).randint(np.iinfo(np.int32).max, size=3)[0])
    target = clf._encode_labels(X, codes).target
    _, _, _, (X_val, val_target) = clf._validation_split(X, target, None, split_seed)
    raw = clf.decision_function(X_val) * clf.temperature_
    assert clf.temperature_ == pytest.approx(
        _labels.fit_temperature(raw, val_target, "multiclass"), rel=1e-3
    )
    assert _labels.cross_entropy(raw / clf.temperature_, val_target, "multiclass") <= (
        _labels.cross_entropy(raw, val_target, "multiclass")
    )
    np.testing.assert_array_equal(clf.predict(X_val), raw.argmax(axis=1))


def test_no_temperature_without_early_stopping_or_with_a_loss_of_your_own():
    X, codes = blobs(n_samples=300)
    assert SFNEClassifier(**QUICK, early_stopping=False, random_state=0).fit(X, codes).temperature_ == 1.0
    import keras

    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    own = SFNEClassifier(**QUICK, loss=loss, random_state=0)
    assert own.fit(X, codes).temperature_ == 1.0
