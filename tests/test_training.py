"""The training path: reuse of compiled models, seeding, global state."""

import random
import subprocess
import sys
import textwrap
import threading
import warnings

import keras
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from _frames import FAST, SMALL_BLOCK, regression_data
from sfne_sklearn import SFNEBlock, SFNERegressor, SFNETransformer
from sfne_sklearn.training import _loop as _training


def _fit(est, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("Estimator", [SFNERegressor, SFNETransformer])
def test_a_reused_compiled_model_trains_like_a_new_one(Estimator, dropout):
    # With dropout, the reused model also draws the masks of a new one:
    # those of the new fit's seed, not where the last fit left them.
    X, y = regression_data(n_samples=80)
    params = {**FAST, "early_stopping": True, "dropout": dropout, "random_state": 3}
    _training.clear_pool()
    fresh = _fit(Estimator(**params), X, y)
    # The pool now holds the compiled model of that fit: the next fit of the
    # same architecture takes it, with new weights and a fresh optimizer.
    _fit(Estimator(**{**params, "random_state": 4}), X, y)
    reused = _fit(Estimator(**params), X, y)
    method = "predict" if hasattr(fresh, "predict") else "transform"
    np.testing.assert_array_equal(getattr(fresh, method)(X), getattr(reused, method)(X))
    assert fresh.history_ == reused.history_


def test_compiled_models_are_kept_per_architecture():
    X, y = regression_data(n_samples=80)
    _training.clear_pool()
    for hidden_dim in (8, 12, 8):
        _fit(SFNERegressor(**{**FAST, "hidden_dim": hidden_dim}, random_state=0), X, y)
    assert _training.kept() == 2


def test_a_fit_that_diverges_at_once_leaves_its_compiled_model_for_the_next():
    # A search whose learning rates diverge in the first epoch: each failed
    # fit used to drop its compiled model, so that every next fit traced a
    # new one (and TensorFlow warned of retracing after five).
    X, y = regression_data(n_samples=40)
    params = {**FAST, "epochs": 3, "optimizer": "sgd", "random_state": 0}
    _training.clear_pool()
    with pytest.raises(ValueError, match="diverged in the first epoch"):
        SFNERegressor(**params, optimizer__learning_rate=1e4, batch_size=5).fit(X, y)
    assert _training.kept() == 1
    fresh_after = _fit(SFNERegressor(**params, optimizer__learning_rate=1e-2, batch_size=5), X, y)
    assert _training.kept() == 1  # the same model, taken and put back
    _training.clear_pool()
    fresh = _fit(SFNERegressor(**params, optimizer__learning_rate=1e-2, batch_size=5), X, y)
    np.testing.assert_array_equal(fresh.predict(X), fresh_after.predict(X))


def test_fits_of_other_batch_sizes_but_as_many_steps_share_a_compiled_model():
    # A search's folds and its refit differ in rows, so in batch size; with
    # as many steps an epoch they train on one compiled model, and as well
    # as on a new one.
    X, y = regression_data(n_samples=80)
    params = {**FAST, "early_stopping": False, "random_state": 0}
    _training.clear_pool()
    fresh = _fit(SFNERegressor(**params, batch_size=20), X, y)  # 4 steps an epoch
    _training.clear_pool()
    _fit(SFNERegressor(**params, batch_size=25), X, y)  # 4 steps, 20 rows in the last
    reused = _fit(SFNERegressor(**params, batch_size=20), X, y)
    assert _training.kept() == 1
    np.testing.assert_array_equal(fresh.predict(X), reused.predict(X))
    assert fresh.history_ == reused.history_
    _fit(SFNERegressor(**params, batch_size=40), X, y)  # 2 steps: another model
    assert _training.kept() == 2


def test_refit_removes_attributes_of_the_previous_fit():
    X, y = regression_data(n_samples=80)
    est = _fit(SFNERegressor(**FAST, early_stopping=True, random_state=0), X, y)
    assert hasattr(est, "best_epoch_")
    _fit(est.set_params(early_stopping=False), X, y)
    assert not hasattr(est, "best_epoch_")
    assert "val_loss" not in est.history_


def test_other_threads_drawing_random_numbers_do_not_move_a_fit():
    # Keras draws unseeded initialiser seeds from Python's global `random`;
    # a web server's or a Dask worker's threads draw from it too.
    X, y = regression_data(n_samples=80)
    params = {**FAST, "early_stopping": True, "random_state": 0}
    quiet = _fit(SFNERegressor(**params), X, y).predict(X)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            np.random.random()

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        busy = _fit(SFNERegressor(**params), X, y).predict(X)
    finally:
        stop.set()
        thread.join()
    np.testing.assert_array_equal(quiet, busy)


def test_a_fit_leaves_global_random_and_float_state_alone():
    X, y = regression_data(n_samples=80)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(keras.backend.floatx())

    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    _fit(SFNERegressor(**FAST, callbacks=[Record()], random_state=0), X, y)
    assert (random.random(), np.random.random()) == expected
    assert set(seen) == {"float32"}


def test_scikeras_patches_stay_out_of_the_process():
    # `import scikeras` replaces keras.Model.__reduce__ for every model.
    code = textwrap.dedent(
        """
        import keras, numpy as np
        before = keras.Model.__dict__.get("__reduce__")
        from sfne_sklearn import SFNERegressor
        X = np.random.RandomState(0).normal(size=(40, 3))
        SFNERegressor(epochs=2, random_state=0).fit(X, X[:, 0])
        assert keras.Model.__dict__.get("__reduce__") is before, "patched"
        assert keras.Model.__dict__.get("__deepcopy__") is None, "patched"
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_the_plateau_schedule_halves_the_learning_rate_when_the_loss_stalls():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(300, 3)), rng.normal(size=300)  # noise: the loss stalls at once
    params = {**FAST, "epochs": 40, "n_iter_no_change": 8, "random_state": 0}
    est = _fit(SFNERegressor(**params), X, y)
    rates = np.array(est.history_["learning_rate"])
    assert len(rates) == est.n_iter_ and rates[0] == pytest.approx(3e-3)
    steps = rates[1:] / rates[:-1]
    assert np.all(np.isclose(steps, 1.0) | np.isclose(steps, 0.5)) and np.any(steps < 1)
    assert rates.min() >= 3e-3 / 256 * (1 - 1e-6)
    # A halving follows n_iter_no_change // 4 = 2 epochs without improvement.
    val = np.array(est.history_["val_loss"])
    first = int(np.flatnonzero(steps < 1)[0]) + 1  # first epoch at the lower rate
    best_before = np.minimum.accumulate(val)
    assert best_before[first - 1] > best_before[first - 3] - 1e-4
    constant = _fit(SFNERegressor(**params, learning_rate_schedule="constant"), X, y)
    assert "learning_rate" not in constant.history_
    # The schedule's state does not outlive a fit: a reused compiled model
    # starts again at the full rate.
    again = _fit(SFNERegressor(**params), X, y)
    assert again.history_["learning_rate"][0] == pytest.approx(3e-3)
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def test_early_stopping_keeps_the_lowest_loss_and_stops_by_tol():
    # tol decides when to stop; the weights kept are those of the lowest
    # validation loss, even where it fell by less than tol (Keras's own
    # EarlyStopping would keep the last epoch that improved by more).
    X, y = regression_data(n_samples=300)
    params = {**FAST, "epochs": 60, "n_iter_no_change": 4, "tol": 0.05, "random_state": 0}
    est = _fit(SFNERegressor(**params, early_stopping=True), X, y)
    val = np.array(est.history_["val_loss"])
    assert est.best_epoch_ == int(np.argmin(val)) + 1
    # Stopped 4 epochs after the last improvement by more than tol.
    best_by_tol, last = val[0], 0
    for epoch, loss in enumerate(val):
        if loss < best_by_tol - 0.05:
            best_by_tol, last = loss, epoch
    assert est.n_iter_ == last + 4 + 1
    assert est.best_epoch_ > last + 1  # a smaller improvement came later, and was kept


def test_a_weight_snapshot_outlives_training_and_restores_exactly():
    # The guard and early stopping keep snapshots on the device instead of
    # NumPy copies: the optimizer's updates must not write into them.
    from sfne_sklearn.training._weights import restore, snapshot

    X, y = regression_data(n_samples=64)
    block = SFNEBlock(input_dim=X.shape[1], output_dim=1, hidden_dim=8, seed=0, dtype="float32")
    compiled = _training.CompiledModel(
        _training.training_model(block, None), optimizer="adam",
        loss=_training.make_loss("mse", "float32"), steps_per_execution=1,
    )
    model = compiled.model
    X, y = X.astype("float32"), y.astype("float32")[:, None]
    model.fit(X, y, batch_size=16, epochs=1, verbose=0)
    before = model.get_weights()
    taken, finite = snapshot(model)
    assert finite
    model.fit(X, y, batch_size=16, epochs=2, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    for kept, value in zip(taken, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(kept), value)
    restore(model, taken)
    for now, value in zip(model.get_weights(), before):
        np.testing.assert_array_equal(now, value)
    # A non-finite weight shows in the flag.
    model.weights[0].assign(np.full(model.weights[0].shape, np.nan, dtype="float32"))
    assert not snapshot(model)[1]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flat_adam_trains_exactly_as_kerass_adam(dtype):
    from sfne_sklearn.training._optimizers import FlatAdam

    X, y = regression_data(n_samples=96)
    X, y = X.astype(dtype), y.astype(dtype)[:, None]
    weights = {}
    for optimizer in (keras.optimizers.Adam, FlatAdam):
        # 8 units in the slow network's layers (64 weights, with the small
        # ones) and 128 in its last (16,384: an update of their own).
        block = SFNEBlock(input_dim=X.shape[1], output_dim=1, hidden_dim=8, seed=0, dtype=dtype,
                          n_members=2, slow_network_units=128)
        model = _training.training_model(block, None)
        model.compile(optimizer=optimizer(learning_rate=3e-3),
                      loss=_training.make_loss("mse", dtype), steps_per_execution=3)
        model.fit(X, y, batch_size=32, epochs=4, verbose=0, seed=1)
        weights[optimizer.__name__] = model.get_weights()
    sizes = [w.size for w in weights["FlatAdam"]]
    assert min(sizes) < FlatAdam.LARGE <= max(sizes)
    for flat, adam in zip(weights["FlatAdam"], weights["Adam"], strict=True):
        np.testing.assert_array_equal(flat, adam)
    with pytest.raises(ValueError, match="weight_decay"):
        FlatAdam(weight_decay=0.01)


def test_fits_train_with_flat_adam_on_tensorflow_only():
    from sfne_sklearn.training._optimizers import FlatAdam

    block = SFNEBlock(input_dim=3, output_dim=1, **SMALL_BLOCK, seed=0)
    loss = _training.make_loss("mse", "float32")
    made = {
        name: type(_training.CompiledModel(_training.training_model(block, None), optimizer=name,
                                           loss=loss, steps_per_execution=1).model.optimizer)
        for name in ("adam", "adamw", "sgd")
    }
    on_tensorflow = keras.backend.backend() == "tensorflow"
    assert made["adam"] is (FlatAdam if on_tensorflow else keras.optimizers.Adam)
    assert made["adamw"] is keras.optimizers.AdamW and made["sgd"] is keras.optimizers.SGD


def test_stopping_and_plateau_decide_as_kerass_callbacks():
    # Ours compare in Python what Keras's compare with keras.ops (float32).
    tol = 1e-4
    best = 0.5
    losses = [1.0, 0.9, 0.9 - 0.5 * tol, 0.9 - tol, 0.9 - tol - 1e-9, 0.7, best, best + 1e-9,
              best - tol + 1e-12, best - tol * (1 + 1e-7), *[best] * 12, 0.3, *[0.3] * 12]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")

    def run(stopper, plateau):
        model.optimizer.learning_rate = 1e-2
        seen = []
        for callback in (stopper, plateau):
            callback.set_model(model)
            callback.on_train_begin()
        for epoch, loss in enumerate(losses):
            logs = {"loss": loss}
            stopper.on_epoch_end(epoch, logs)
            plateau.on_epoch_end(epoch, logs)
            # (Ours also tracks the lowest loss, for the weights it keeps.)
            seen.append((stopper.wait, stopper.best, model.stop_training,
                         logs["learning_rate"], plateau.wait, plateau.best))
            model.stop_training = False
        return seen

    kwargs = dict(monitor="loss", min_delta=tol)
    ours = run(_training.EarlyStopping(patience=4, **kwargs),
               _training.PlateauSchedule(patience=2, factor=0.5, min_lr=1e-4, **kwargs))
    theirs = run(keras.callbacks.EarlyStopping(patience=4, **kwargs),
                 keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5, min_lr=1e-4, **kwargs))
    assert ours == theirs
    assert any(stop for _, _, stop, _, _, _ in ours) and ours[-1][3] < 1e-2


def test_an_epoch_checks_loss_and_weights_in_one_call(monkeypatch):
    # The guard's traced call gives the validation loss and the snapshot
    # that early stopping keeps: no other snapshot is taken.
    from sfne_sklearn.training import _guards, _weights

    taken = []
    real = _weights.snapshot
    monkeypatch.setattr(_training, "snapshot", lambda model: taken.append(1) or real(model))
    monkeypatch.setattr(_guards, "snapshot", lambda model: taken.append(1) or real(model))
    X, y = regression_data(n_samples=240)
    est = _fit(SFNERegressor(**{**FAST, "epochs": 8}, early_stopping=True, random_state=0), X, y)
    assert len(est.history_["val_loss"]) == est.n_iter_ == 8 and taken == []
    # Without held-out rows the guard snapshots by itself, once an epoch.
    est = _fit(SFNERegressor(**{**FAST, "epochs": 8}, early_stopping=False, random_state=0), X, y)
    assert len(taken) == est.n_iter_


# --------------------------------------------------------------------------
# An ensemble sharing the block (n_members)


@pytest.mark.parametrize("loss", ["mse", "sigmoid_cross_entropy"])
def test_an_ensemble_loss_is_the_mean_of_its_members_losses(loss):
    rng = np.random.default_rng(0)
    y_pred = rng.normal(size=(6, 3, 2))
    y_true = rng.normal(size=(6, 2)) if loss == "mse" else rng.integers(0, 2, (6, 2)) * 1.0
    weights = rng.uniform(size=6)
    single = _training.make_loss(loss, "float64")
    ensemble = _training._MembersLoss(single, 3)
    per_member = [float(single(y_true, y_pred[:, m], sample_weight=weights)) for m in range(3)]
    got = float(ensemble(y_true, y_pred, sample_weight=weights))
    np.testing.assert_allclose(got, np.mean(per_member), rtol=1e-12)
    assert ensemble.name == single.name
    # The training model of an ensemble block compiles it; under a head, not.
    block = SFNEBlock(input_dim=2, output_dim=1, hidden_dim=8, seed=0, n_members=3)
    for head, members in [(None, True), (keras.layers.Dense(1), False)]:
        compiled = _training.CompiledModel(
            _training.training_model(block, head), optimizer="adam", loss=single,
            steps_per_execution=1,
        )
        assert isinstance(compiled.model.loss, _training._MembersLoss) == members


def test_an_ensemble_trains_its_members_apart_and_predicts_their_mean():
    X, y = regression_data(n_samples=150)
    est = _fit(SFNERegressor(**FAST, n_members=3, preprocessor=None, random_state=0), X, y)
    assert est.model_.n_members == 3
    members = keras.ops.convert_to_numpy(est.model_(X.astype(est.model_.compute_dtype), members=True))
    assert members.shape == (150, 3, 1)
    # Trained on their own losses, the members disagree, and the estimator
    # predicts their mean.
    spread = np.ptp(members[:, :, 0], axis=1)
    assert spread.mean() > 1e-3
    predicted = members.mean(axis=1)[:, 0] * est._y_scale[0] + est._y_mean[0]
    np.testing.assert_allclose(est.predict(X), predicted, rtol=1e-5, atol=1e-5)
    assert est.score(X, y) > 0.9
    # A transformer's members are trained through the head, on their mean.
    transformer = _fit(SFNETransformer(**FAST, output_dim=3, n_members=3, random_state=0), X, y)
    assert transformer.transform(X).shape == (150, 3)


def test_n_members_auto_is_many_members_on_few_rows_and_one_on_many():
    reg, transformer = SFNERegressor(), SFNETransformer(n_members="auto")
    assert reg.n_members == "auto" and SFNETransformer().n_members == 1
    rows = [100, 8_192, 8_193, 20_000, 32_768, 32_769, 10**6, None]
    assert [reg._members_for(n) for n in rows] == [8, 8, 7, 3, 2, 1, 1, 1]
    assert {transformer._members_for(n) for n in rows} == {1}
    assert SFNERegressor(n_members=3)._members_for(10**6) == 3
    X, y = regression_data(n_samples=60)
    assert _fit(SFNERegressor(**{**FAST, "epochs": 2}, random_state=0), X, y).model_.n_members == 8


def test_n_members_is_validated():
    X, y = regression_data(n_samples=40)
    with pytest.raises(ValueError, match="n_members"):
        SFNERegressor(n_members=0).fit(X, y)


def test_one_pass_over_a_chunk_takes_the_first_epochs_batches():
    # partial_fit and streamed partitions train one pass a call: gathered
    # once instead of batch by batch, in the order of a fit's first epoch.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data")
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(23, 3)), rng.normal(size=(23, 1)), rng.random(23)
    for shuffle in (True, False):
        one_pass = list(_training._pass_dataset(X, y, w, 5, 7, shuffle))
        first_epoch = list(_training._epoch_dataset(X, y, w, 5, 2, 7, shuffle))[: len(one_pass)]
        assert [len(b[0]) for b in one_pass] == [5, 5, 5, 5, 3]
        for ours, theirs in zip(one_pass, first_epoch):
            for a, b in zip(ours, theirs):
                np.testing.assert_array_equal(a, b)
        rows = np.concatenate([b[0] for b in one_pass])
        assert np.array_equal(rows, X) != shuffle
        assert sorted(map(tuple, rows)) == sorted(map(tuple, X))
