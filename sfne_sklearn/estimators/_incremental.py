"""``partial_fit``: one training pass per in-memory chunk of rows.

scikit-learn's incremental-learning convention: each call trains one pass
(one epoch) over the chunk it is given, continuing the weights and the
optimizer's state of the calls before it, so that a loop over chunks, or
``dask_ml.wrappers.Incremental``, trains one network on more rows than fit
in memory at once.

- The first call (on an estimator never fitted) fits the preprocessor on
  its chunk, or takes ``preprocessor`` as it is when that transformer is
  already fitted; it also fixes the target's standardisation (regressor)
  from that chunk. Later chunks are transformed with them.
- A ``partial_fit`` after ``fit`` continues from the fitted network and
  preprocessor.
- No validation split and no early stopping: one pass per call, the caller
  decides when to stop.
- Seeded by ``random_state`` as ``fit`` is: the initial weights, and the
  order of the rows of the k-th call (from a seed and k).
"""

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted


def started(estimator):
    """Whether ``partial_fit`` continues an earlier fit rather than starting one."""
    return "model_" in estimator.__dict__ or "_model_state" in estimator.__dict__


def _given_fitted(preprocessor):
    """True for a user transformer that is already fitted (used as it is)."""
    if preprocessor is None or isinstance(preprocessor, str):
        return False
    try:
        check_is_fitted(preprocessor)
    except (NotFittedError, TypeError):
        return False
    return True


def _chunk_weights(sample_weight, X):
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative.")
    return sample_weight


def _start(estimator, X, y, sample_weight):
    """First call: preprocessor, dtype, target scaling and seeds."""
    estimator._check_training_params()
    for name in estimator._FITTED_ATTRIBUTES:
        estimator.__dict__.pop(name, None)
    Xt, _ = estimator._fit_features(
        X, sample_weight, prefitted=_given_fitted(estimator.preprocessor)
    )
    target = Xt if y is None else estimator._training_target(y, sample_weight)
    return Xt, target


def _seeds(estimator):
    seeds = estimator.__dict__.get("_stream_seeds")
    if seeds is None:
        rng = check_random_state(estimator.random_state)
        seeds = estimator._stream_seeds = tuple(
            int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2)
        )
    return seeds


def trainer_to_state(state):
    """Replace the live trainer in a pickled ``state`` by its arrays.

    So that a pickled (or deep-copied, as ``dask_ml.wrappers.Incremental``
    does for every chunk) estimator's next ``partial_fit`` continues with
    the same weights, head and optimizer moments.
    """
    trainer = state.pop("_trainer", None)
    if trainer is not None:
        state["_trainer_state"] = trainer.get_state()


def partial_fit_network(estimator, X, y, sample_weight):
    """One training pass over a validated chunk ``X`` (``y``: 2-D target or None)."""
    from ..training._stream import IncrementalTrainer

    sample_weight = _chunk_weights(sample_weight, X)
    if not started(estimator):
        Xt, target = _start(estimator, X, y, sample_weight)
    else:
        Xt = estimator._features(X, estimator._dtype)
        if y is None:
            target = Xt
        elif estimator._label_kind is None and "_y_mean" in estimator.__dict__:
            target = (y - estimator._y_mean) / estimator._y_scale
        else:
            target = y
    target = np.asarray(target, dtype=estimator._dtype)
    if sample_weight is not None:
        # As in fit: rows of weight 0 out, the others at mean 1.
        keep = sample_weight > 0
        if not keep.any():
            return estimator  # nothing to learn from this chunk
        Xt, target, sample_weight = Xt[keep], target[keep], sample_weight[keep]
        sample_weight = (sample_weight / sample_weight.mean()).astype(estimator._dtype)

    init_seed, shuffle_seed = _seeds(estimator)
    trainer = estimator.__dict__.get("_trainer")
    n_outputs = target.shape[1]
    if trainer is None:
        if started(estimator):
            block = estimator.model_
        else:
            block = estimator._make_block(
                Xt, estimator._block_output_dim(n_outputs), seed=init_seed
            )
        head = estimator._training_head(n_outputs, block.dtype_policy, seed=init_seed)
        trainer = IncrementalTrainer(
            block,
            head,
            optimizer=estimator.optimizer,
            learning_rate=estimator.optimizer__learning_rate,
            loss=estimator._training_loss(),
        )
        saved = estimator.__dict__.pop("_trainer_state", None)
        if saved is not None:
            trainer.set_state(saved)
    else:
        block = estimator.model_
    n_iter = estimator.__dict__.get("n_iter_", 0)
    loss = trainer.one_pass(
        Xt,
        target,
        sample_weight=sample_weight,
        batch_size=estimator._batch_size_for(Xt.shape[0]),
        seed=shuffle_seed + n_iter,
    )
    if not np.isfinite(loss):
        # The trainer's weights are lost; the estimator keeps the last good ones.
        estimator.__dict__.pop("_trainer", None)
        raise ValueError(
            f"{type(estimator).__name__}.partial_fit: the training loss of this chunk is "
            f"{loss} (non-finite); the weights before it are kept. Lower "
            "`optimizer__learning_rate`, or scale X and y."
        )
    estimator._trainer = trainer
    block.set_weights(trainer.block_weights())
    history = estimator.__dict__.get("history_") or {}
    history.setdefault("loss", []).append(loss)
    estimator.history_ = history
    estimator.n_iter_ = n_iter + 1
    estimator._set_fitted_model(block)
    return estimator
