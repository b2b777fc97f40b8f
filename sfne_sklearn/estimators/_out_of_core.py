"""``fit`` on a dask DataFrame or Array: training out of core.

1. Statistics from every partition (``preprocessing._dask_stats``): the
   ``"auto"`` preprocessor's, the target's mean and scale (numbers) or its
   classes (labels), by dask reductions. A transformer without ``y``
   learns to reconstruct its preprocessed features, as in memory.
2. Epochs streamed partition by partition: each epoch visits the
   partitions in a seeded order, loads one (``dask.compute``), preprocesses
   it and trains one shuffled pass over its rows (seeded by the epoch and
   the partition), then drops it. The weights and the optimizer's state go
   on from partition to partition (``training._stream``).
3. Early stopping: a seeded share of the rows of every partition (at most
   ``_MAX_VALIDATION_ROWS`` in all) is held out, collected while the first
   epoch streams, kept in memory preprocessed, and scored after each
   epoch. The in-memory fit's divergence guard, early-stopping rule and
   learning-rate schedule (Keras callbacks: ``DivergenceGuard``,
   ``BaseSFNE._stopping_rule`` and ``_schedule_callbacks``) are told each
   epoch's losses: the same recovery from divergence, the same stopping,
   the best epoch's weights kept, the rate halved on plateaus.
   So are the user's ``callbacks`` and the ``verbose`` progress report,
   through their fit and epoch hooks only: the batches train inside one
   Keras ``fit`` call per partition.

Every random choice comes from seeds drawn from ``random_state`` as in an
in-memory fit, so a fit with an int ``random_state`` is reproducible. It
is not the same model as the in-memory fit on the same rows: the rows are
shuffled within partitions, not across the whole table.
"""

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.utils import check_random_state

from . import _labels
from ._dask import is_dask_dataframe

# Held-out rows kept in memory for early stopping, at most.
_MAX_VALIDATION_ROWS = 100_000


_TARGET = "__sfne_target__"


def _split_target(part):
    return part.drop(columns=_TARGET), part[_TARGET]


def _pair(x_part, y_part):
    return x_part, y_part


def _partition_pairs(X, y):
    """One dask Delayed per partition, computing ``(X_part, y_part)`` together.

    For a DataFrame, ``y`` joins ``X`` as a column first: dask may fuse the
    partitions of a narrow projection (``ddf["target"]``) differently from
    those of ``X``, and one computation reads each file once. Without ``y``
    (a self-supervised transformer) ``y_part`` is None.
    """
    import dask

    from ..preprocessing._dask_stats import delayed_partitions

    if y is None:
        return [dask.delayed(_pair)(p, None) for p in delayed_partitions(X)]
    if not hasattr(y, "__dask_graph__"):
        raise ValueError(
            f"A dask X needs a dask y with the same partitions; got y of type "
            f"{type(y).__name__}. Pass y as a dask Series or Array (e.g. ddf['target'])."
        )
    if is_dask_dataframe(X):
        if getattr(y, "ndim", None) != 1 or not hasattr(y, "to_frame"):
            raise ValueError(
                f"With a dask DataFrame X, pass y as a dask Series (one target column); "
                f"got a {type(y).__name__}."
            )
        try:
            combined = X.assign(**{_TARGET: y})
        except Exception as exc:  # dask's own message says why
            raise ValueError(
                f"y does not line up with X's partitions ({exc}); take both from one "
                "dask DataFrame."
            ) from exc
        return [dask.delayed(_split_target)(p) for p in combined.to_delayed()]
    x_parts = delayed_partitions(X)
    if hasattr(y, "to_frame") or getattr(y, "ndim", 0) not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"With a dask Array X, pass y as a dask Array of {X.shape[0]} rows; got "
            f"{type(y).__name__} of shape {getattr(y, 'shape', None)}."
        )
    y = y.rechunk((X.chunks[0],) + tuple((-1,) * (y.ndim - 1)))
    return [dask.delayed(_pair)(x, t) for x, t in zip(x_parts, y.to_delayed().ravel())]


def _target_statistics(estimator, y, n_features):
    """Set the target's standardisation or classes, from dask reductions.

    Returns the number of outputs the network is trained on: the
    preprocessed features themselves where there is no ``y``.
    """
    import dask

    if y is None:
        return n_features
    if estimator._holds_classes(y):
        if hasattr(y, "unique"):  # a dask Series
            found = y.unique().compute()
        else:
            import dask.array

            found = dask.array.unique(y).compute()
        classes = np.unique(_labels._label_array(pd.Series(found)))
        encoded = _labels.encode_with_classes(classes, classes, estimator=type(estimator).__name__)
        estimator.classes_ = encoded.classes
        estimator._label_kind = encoded.kind
        estimator._label_dtype = encoded.label_dtype
        return 1 if encoded.kind == "binary" else len(encoded.classes)
    mean, var = dask.compute(y.mean(axis=0), y.var(axis=0, ddof=0))
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    scale = np.sqrt(np.atleast_1d(np.asarray(var, dtype=np.float64)))
    estimator._y_mean, estimator._y_scale = mean, np.where(scale > 0, scale, 1.0)
    if is_regressor(estimator):
        estimator._y_ndim = y.ndim
    return len(mean)


def _target_of(estimator, y_part, Xt):
    if y_part is None:
        return Xt
    if estimator._label_kind is not None:
        return _labels.encode_with_classes(
            y_part, estimator.classes_, estimator=type(estimator).__name__
        ).target
    y_part = np.asarray(y_part, dtype=np.float64)
    y_part = y_part.reshape(-1, 1) if y_part.ndim == 1 else y_part
    return (y_part - estimator._y_mean) / estimator._y_scale


def _check_streamable(estimator, sample_weight):
    """The parameters, and what a fit on dask collections cannot take."""
    name = type(estimator).__name__
    estimator._validate_params()
    if sample_weight is not None:
        raise ValueError(
            f"{name}.fit on a dask X takes no sample_weight; weigh rows by repeating "
            "them, or fit in memory."
        )
    if estimator.preprocessor not in ("auto", None):
        raise ValueError(
            f"{name}.fit on a dask X computes preprocessor='auto' (or None) from every "
            f"partition; got preprocessor={estimator.preprocessor!r}. Fit it on a "
            "sample and pass the fitted transformer to partial_fit instead."
        )
    estimator._check_training_params()


def _fit_statistics(estimator, X, y):
    """Step 1: the preprocessor, the float types and the target's statistics.

    Returns the first partition's features (the block's spline-encoded
    columns are those with more than two values there), the number of rows
    and the number of outputs the network trains on.
    """
    import dask

    from ..preprocessing._dask_stats import delayed_partitions, fit_auto_on_dask

    head = dask.compute(delayed_partitions(X)[0])[0]
    head = estimator._validate_X(head, reset=True)
    if estimator.preprocessor == "auto":
        estimator.preprocessor_, lengths = fit_auto_on_dask(X, head)
        estimator._set_preprocessing_steps()
    else:
        estimator.preprocessor_ = None
        lengths = list(X.map_partitions(len).compute()) if is_dask_dataframe(X) else list(
            X.chunks[0]
        )
    n_rows = sum(lengths)
    # The float dtypes, as an in-memory fit picks them (see BaseSFNE._fit_features).
    features = head if estimator.preprocessor_ is None else estimator.preprocessor_.transform(head)
    features = np.asarray(features)
    estimator._set_dtypes(features.dtype, n_rows)
    n_outputs = _target_statistics(estimator, y, features.shape[1])
    if is_classifier(estimator) or is_regressor(estimator):
        estimator.n_outputs_ = n_outputs
    return features, n_rows, n_outputs


def _stream_epoch(estimator, trainer, pairs, epoch, *, seeds, share, batch_size, held_out):
    """Step 2: one epoch, partition by partition; returns its mean training loss.

    Each partition gives up its seeded share of rows to early stopping:
    in the first epoch they are appended to ``held_out``, in every epoch
    they are left out of training.
    """
    import dask

    shuffle_seed, split_seed = seeds
    order = np.random.default_rng([shuffle_seed, epoch]).permutation(len(pairs))
    total, seen = 0.0, 0
    for i in order:
        X_part, y_part = dask.compute(pairs[i])[0]
        if len(X_part) == 0:
            continue
        Xt = estimator._features(estimator._validate_X(X_part, reset=False), estimator._dtype)
        target = np.asarray(_target_of(estimator, y_part, Xt), dtype=estimator._dtype)
        if share:
            held = np.random.default_rng([split_seed, int(i)]).random(len(Xt)) < share
            if epoch == 0 and held.any():
                held_out.append((Xt[held], target[held]))
            Xt, target = Xt[~held], target[~held]
        if len(Xt) == 0:
            continue
        loss = trainer.one_pass(
            Xt, target, sample_weight=None,
            batch_size=min(batch_size, len(Xt)),
            seed=shuffle_seed + epoch * len(pairs) + int(i),
        )
        total, seen = total + loss * len(Xt), seen + len(Xt)
        del X_part, y_part, Xt, target  # one partition in memory at a time
    return total / max(seen, 1)


def fit_out_of_core(estimator, X, y, sample_weight):
    """Fit ``estimator`` on dask ``X`` and ``y`` (None: a self-supervised transformer)."""
    from ..training._guards import DivergenceGuard, TrainingDiverged
    from ..training._stream import IncrementalTrainer

    name = type(estimator).__name__
    _check_streamable(estimator, sample_weight)
    for attr in (*estimator._FITTED_ATTRIBUTES, *estimator._TARGET_ATTRIBUTES):
        estimator.__dict__.pop(attr, None)
    rng = check_random_state(estimator.random_state)
    split_seed, init_seed, shuffle_seed = (
        int(s) for s in rng.randint(np.iinfo(np.int32).max, size=3)
    )
    pairs = _partition_pairs(X, y)
    features, n_rows, n_outputs = _fit_statistics(estimator, X, y)
    early = estimator._early_stopping_for(n_rows)
    share = min(estimator.validation_fraction, _MAX_VALIDATION_ROWS / n_rows) if early else 0.0

    block = estimator._make_block(
        features, estimator._block_output_dim(n_outputs), seed=init_seed, n_rows=n_rows
    )
    head_layer = estimator._training_head(n_outputs, block.dtype_policy, seed=init_seed)
    rate = estimator.optimizer__learning_rate
    trainer = IncrementalTrainer(
        block, head_layer, optimizer=estimator.optimizer, learning_rate=rate,
        loss=estimator._training_loss(), steps_per_execution=32,
    )
    # "auto": at most 200 rows a step, not _steps_for's larger steps on many
    # rows (streamed, they were no faster on diamonds' folds, nor more
    # accurate: docs/benchmarks.md).
    batch_size = estimator._batch_size_for(n_rows)
    # The in-memory fit's callbacks, told each epoch's losses: the divergence
    # guard (which adds the validation loss), early stopping, the schedule,
    # the user's callbacks and the progress report.
    guard = DivergenceGuard()
    stopper = estimator._stopping_rule(early, snapshots=guard)
    callbacks = [
        guard, stopper, *estimator._schedule_callbacks(stopper, rate),
        *estimator._reporting_callbacks(),
    ]
    for callback in callbacks:
        callback.set_model(trainer.model)
        callback.set_params({"epochs": estimator.epochs, "steps": None, "verbose": 0})
        callback.on_train_begin()
    history, held_out, validation = {}, [], None
    try:
        for epoch in range(estimator.epochs):
            logs = {"loss": _stream_epoch(
                estimator, trainer, pairs, epoch, seeds=(shuffle_seed, split_seed), share=share,
                batch_size=batch_size, held_out=held_out,
            )}
            if early and epoch == 0:
                validation = guard.validation = _held_out(held_out, name)
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            if trainer.model.stop_training:
                break
        for callback in callbacks:
            callback.on_train_end()  # the stopper restores the best epoch's weights
    except TrainingDiverged as diverged:
        history = estimator._recover(diverged, guard, stopper, early)
    block.set_weights(trainer.block_weights())
    estimator._calibrate(block, validation)
    estimator._record_fit(block, history, stopper, early)
    return estimator


def _held_out(parts, name):
    """The rows the partitions held out, as one ``(X, y)``."""
    if not parts:
        raise ValueError(
            f"{name}: no row was held out for early stopping; raise "
            "validation_fraction or pass early_stopping=False."
        )
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
