"""The Keras side of training: the model Keras trains, reused across fits.

Fitting a small network with ``keras.Model.fit`` on TensorFlow costs far more
than the arithmetic: tracing the train step (seconds per fit), and on every
epoch two fresh ``tf.data`` iterators, one for the training rows and one for
the validation rows, with a function call per batch. Here:

- :class:`TrainingModel` is the block (plus an optional head) as Keras
  trains it. Its ``fit`` streams the rows as one seeded ``tf.data`` pipeline
  that covers every epoch, so Keras keeps a single iterator for the whole
  fit; the compiled step runs a whole epoch per call
  (``steps_per_execution``).
- :func:`checkout` / :func:`release` keep compiled training models of one
  architecture for the next fit (a grid search, cross-validation): the
  weights and the optimizer's state are reset, the traced functions kept.
- :meth:`TrainingModel.epoch_state` computes the validation loss and a
  snapshot of the weights in one traced call per epoch (for the divergence
  guard), instead of a Keras ``evaluate`` loop and a copy of each weight.
- :class:`FitProgress` shows one progress bar for the whole fit.

A fit started inside a ``tf.distribute`` strategy's scope, or (Keras on JAX)
while a ``keras.distribution`` is set, builds its training model under that
distribution, and Keras splits each batch over the replicas. The pool keys a
kept model by the distribution it was built under (:func:`distribution_key`):
a model built on one device is never trained under a strategy, nor the
reverse.
"""

import collections
import math
import threading
import time

import keras
import numpy as np

from ._optimizers import FlatAdam
from ._weights import copies_and_finite, restore, snapshot, snapshot_variables


class _FunctionLoss(keras.losses.Loss):
    """A loss function as a Loss in an explicit dtype.

    Keras computes a loss given by name or function in
    ``keras.backend.floatx()`` (float32) whatever the model's dtype; a Loss
    object carries its own.
    """

    def __init__(self, fn, dtype):
        super().__init__(name=getattr(fn, "__name__", None), dtype=dtype)
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


#: Cross-entropies on logits, by the names the estimators use for them.
# Held-out rows per forward pass outside training: one pass holds
# activations of rows x (hidden_dim + every spline feature), and the spline
# encoding's intermediates of rows x encoded columns x splines (2,048 rows
# of 50 encoded columns: about 10 MB each; 8,192 rows held 240 MB).
CHUNK_ROWS = 2048

LOGIT_LOSSES = {
    "sigmoid_cross_entropy": keras.losses.BinaryCrossentropy,
    "softmax_cross_entropy": keras.losses.CategoricalCrossentropy,
}


class _MembersLoss(keras.losses.Loss):
    """A loss of one output per row, averaged over an ensemble's members.

    The members' outputs come as ``(batch, n_members, width)``; each is
    compared with the row's target, so every member learns on its own
    (TabM's rule) and a row's weight weighs all its members.
    """

    def __init__(self, loss, n_members):
        super().__init__(name=loss.name, reduction=loss.reduction, dtype=loss.dtype)
        self.loss, self.n_members = loss, n_members

    def call(self, y_true, y_pred):
        width = y_pred.shape[-1]
        y_true = keras.ops.repeat(keras.ops.expand_dims(y_true, 1), self.n_members, axis=1)
        per_member = self.loss.call(
            keras.ops.reshape(y_true, (-1, width)), keras.ops.reshape(y_pred, (-1, width))
        )
        return keras.ops.mean(keras.ops.reshape(per_member, (-1, self.n_members)), axis=1)


def make_loss(loss, dtype):
    """The loss to compile with: names and functions computed in ``dtype``."""
    if isinstance(loss, keras.losses.Loss):
        return loss
    if loss in LOGIT_LOSSES:
        return LOGIT_LOSSES[loss](from_logits=True, name=loss, dtype=dtype)
    fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    if isinstance(fn, keras.losses.Loss):
        return fn
    return _FunctionLoss(fn, dtype)


class TrainingModel(keras.Model):
    """The block, and optionally a head on top of it, as Keras trains it.

    A functional model (scikeras reads ``outputs``) whose ``fit`` takes the
    rows as arrays. On TensorFlow it feeds them through one ``tf.data``
    pipeline for all epochs, shuffled per epoch by a stateless permutation
    of ``seed`` (nothing global is read or changed), so that Keras creates
    one iterator per fit rather than two per epoch.
    """

    def fit(self, x=None, y=None, *, sample_weight=None, batch_size=32, epochs=1,
            seed=0, shuffle=True, exact_sample_weight=None, one_pass=False, **kwargs):
        # scikeras casts ``sample_weight`` to float32; ``exact_sample_weight``
        # comes in the model's own dtype. ``one_pass``: the one epoch of a
        # call on a chunk, whose rows may be copied (see _pass_dataset).
        if one_pass and epochs != 1:
            raise ValueError(f"one_pass trains one epoch; got epochs={epochs}.")
        if exact_sample_weight is not None:
            sample_weight = exact_sample_weight
        if keras.backend.backend() != "tensorflow":
            # The same seeded per-epoch order, from NumPy (no tf.data here).
            batches = _EpochBatches(x, y, sample_weight, batch_size, seed, shuffle)
            return super().fit(batches, epochs=epochs, shuffle=False, **kwargs)
        n_rows = x.shape[0]
        steps = math.ceil(n_rows / batch_size)
        if one_pass:
            dataset = _pass_dataset(x, y, sample_weight, batch_size, seed, shuffle)
        else:
            dataset = _epoch_dataset(x, y, sample_weight, batch_size, epochs, seed, shuffle)
        # The dataset is already shuffled, per epoch.
        return super().fit(dataset, epochs=epochs, steps_per_epoch=steps, shuffle=False, **kwargs)

    def validation_loss(self, x, y, sample_weight=None):
        """The compiled loss of ``x`` against ``y``, as a float.

        The same value as Keras's ``evaluate`` (the loss averaged over the
        rows, weighted), computed in one traced call per ``CHUNK_ROWS`` rows.
        """
        fn = getattr(self, "_validation_loss_fn", None)
        if fn is None:
            fn = self._validation_loss_fn = self._traced_loss()
        args = (x, y) if sample_weight is None else (x, y, sample_weight)
        n_rows = len(x)
        if n_rows <= CHUNK_ROWS:
            return float(keras.ops.convert_to_numpy(fn(*args)))
        # Each chunk's loss is reduced as the whole would be: a sum adds up,
        # a mean over rows (or over weights) counts by its share of them.
        reduction = getattr(self.loss, "reduction", "sum_over_batch_size")
        by_weight = reduction == "mean_with_sample_weight" and sample_weight is not None
        total_weight = float(np.sum(sample_weight)) if by_weight else None
        total = 0.0
        for start in range(0, n_rows, CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            loss = float(keras.ops.convert_to_numpy(fn(*(a[rows] for a in args))))
            if reduction == "sum":
                share = 1.0
            elif by_weight:
                share = float(np.sum(sample_weight[rows])) / total_weight if total_weight else 0.0
            else:
                share = len(x[rows]) / n_rows
            total += loss * share
        return total

    def epoch_state(self, x=None, y=None, sample_weight=None):
        """What an epoch's end checks: the validation loss, the weights, their finiteness.

        Returns the loss of ``x`` against ``y`` (as :meth:`validation_loss`;
        None without ``x``), a snapshot of the weights (see ``_weights``)
        and whether they are all finite: in one traced call where ``x``
        fits in one chunk, else the chunked loss and a snapshot.
        """
        if x is None or len(x) > CHUNK_ROWS:
            loss = None if x is None else self.validation_loss(x, y, sample_weight)
            return (loss, *snapshot(self))
        fn = getattr(self, "_epoch_state_fn", None)
        if fn is None:
            fn = self._epoch_state_fn = self._traced_loss(with_snapshot=True)
        args = (x, y) if sample_weight is None else (x, y, sample_weight)
        loss, weights, finite = fn(*args)
        return float(keras.ops.convert_to_numpy(loss)), list(weights), bool(finite)

    def _traced_loss(self, with_snapshot=False):
        """``_loss_of`` traced; ``with_snapshot``: also a snapshot of the weights.

        The snapshot is :func:`snapshot`'s (``_weights``): copies of
        ``model.weights`` in their order, and whether all are finite.
        """
        snapshotted = snapshot_variables(self)
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            def loss_and_weights(*args):
                loss = self._loss_of(*args)
                if not with_snapshot:
                    return loss
                return (loss, *copies_and_finite([v.value for v in snapshotted]))

            return tf.function(loss_and_weights, reduce_retracing=True)
        if backend != "jax":
            if not with_snapshot:
                return self._loss_of
            return lambda *args: (self._loss_of(*args), *snapshot(self))
        import jax

        # jax.jit sees variables as constants: pass their current values,
        # as Keras's own JAX steps do (un-jitted, the loss ran op by op and
        # cost about as much as the epoch's training).
        @jax.jit
        def stateless_loss(trainable, non_trainable, metrics, weights, x, y, sample_weight=None):
            y_pred, _ = self.stateless_call(trainable, non_trainable, x)
            loss, _ = self.stateless_compute_loss(
                trainable, non_trainable, metrics, x=x, y=y, y_pred=y_pred,
                sample_weight=sample_weight, training=False,
            )
            if not with_snapshot:
                return loss
            return (loss, *copies_and_finite(weights))

        def loss(*args):
            state = [[v.value for v in variables] for variables in (
                self.trainable_variables, self.non_trainable_variables, self.metrics_variables
            )]
            weights = [v.value for v in snapshotted] if with_snapshot else []
            return stateless_loss(*state, weights, *args)

        return loss

    def _loss_of(self, x, y, sample_weight=None):
        loss = self.compute_loss(x=x, y=y, y_pred=self(x), sample_weight=sample_weight)
        # Under a tf.distribute strategy of n replicas, Keras divides every
        # loss by n (the replicas' gradients are summed); this loss is of all
        # the rows, on one replica: undo it, as Keras does for its own logs.
        replicas = _tf_replicas()
        return loss if replicas == 1 else loss * keras.ops.cast(replicas, loss.dtype)


def _tf_strategy():
    """The ``tf.distribute`` strategy whose scope is open here, or None.

    None also on other backends, and outside every scope (TensorFlow's
    default strategy: one device).
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


def _tf_replicas():
    """Replicas a loss computed here is divided over by Keras (1 but on TensorFlow)."""
    strategy = _tf_strategy()
    return 1 if strategy is None else strategy.num_replicas_in_sync


def distribution_key():
    """The distribution a model built here and now is built under; None: one device.

    A model is tied to the distribution it is built under: its variables
    (mirrored on each replica, or sharded over a device mesh) and its traced
    train step. A ``tf.distribute`` strategy is open in this thread
    (``with strategy.scope():``) or a Keras distribution is set for it
    (``keras.distribution.set_distribution``, on JAX). The strategy or
    distribution object itself is part of the key (it compares by identity,
    and the key keeps it alive while a model of it is kept), beside its kind
    and its number of replicas or mesh shape.
    """
    key = []
    strategy = _tf_strategy()
    if strategy is not None:
        key.append((type(strategy).__name__, strategy.num_replicas_in_sync, strategy))
    distribution = keras.distribution.distribution()
    if distribution is not None:
        mesh = getattr(distribution, "device_mesh", None)
        shape = None if mesh is None else tuple(mesh.shape)
        key.append((type(distribution).__name__, shape, distribution))
    return tuple(key) or None


class _EpochBatches(keras.utils.PyDataset):
    """Batches of the rows, each epoch in its own order, for non-TF backends.

    The order of epoch ``e`` is a permutation drawn from a private NumPy
    generator seeded with ``(seed, e)``: nothing global is read or changed.
    """

    def __init__(self, x, y, sample_weight, batch_size, seed, shuffle):
        super().__init__()
        self.arrays = tuple(a for a in (x, y, sample_weight) if a is not None)
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0
        self.order = self._order()

    def _order(self):
        n_rows = self.arrays[0].shape[0]
        if not self.shuffle:
            return np.arange(n_rows)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n_rows)

    def __len__(self):
        return math.ceil(self.arrays[0].shape[0] / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return tuple(a[rows] for a in self.arrays)

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()


def _shuffled_rows(n_rows, seed, epoch, shuffle):
    """The row order of epoch ``epoch``: stateless, it depends on (seed, epoch) alone."""
    import tensorflow as tf

    rows = tf.range(n_rows)
    if not shuffle:
        return rows
    return tf.random.experimental.stateless_shuffle(
        rows, seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    )


def _pass_dataset(x, y, sample_weight, batch_size, seed, shuffle):
    """One pass over the rows in the order of :func:`_epoch_dataset`'s first epoch.

    For a call that trains one epoch on a chunk (``partial_fit``, a streamed
    partition): the chunk's rows are gathered in their order once, a copy,
    so the pipeline has no function for tf.data to trace (two traces a
    call otherwise, about 20 ms).
    """
    import tensorflow as tf

    from ._arrays import as_tensor

    rows = _shuffled_rows(x.shape[0], seed, 0, shuffle)
    arrays = tuple(tf.gather(as_tensor(a), rows) for a in (x, y, sample_weight) if a is not None)
    return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size).with_options(_options())


def _options():
    import tensorflow as tf

    # tf.data's default rewrites serialise the pipeline's graph, copying the
    # captured rows into it: a second copy of the training data for the
    # whole fit. The pipeline is already what they would make of it.
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    # Nothing here for autotuning to tune (no parallel map, a fixed
    # prefetch), and its thread made deleting the iterator at the end of a
    # fit wait up to 200 ms.
    options.autotune.enabled = False
    return options


def _epoch_dataset(x, y, sample_weight, batch_size, epochs, seed, shuffle):
    """``epochs`` passes over the rows in batches, each pass in its own order."""
    import tensorflow as tf

    n_rows = x.shape[0]
    from ._arrays import as_tensor

    # Shared with the arrays where aligned (see _arrays), else copied.
    tensors = tuple(as_tensor(a) for a in (x, y, sample_weight) if a is not None)

    def one_epoch(epoch):
        rows = _shuffled_rows(n_rows, seed, epoch, shuffle)
        return tf.data.Dataset.from_tensor_slices(rows).batch(batch_size)

    batches = tf.data.Dataset.range(epochs).flat_map(one_epoch)
    dataset = batches.map(lambda rows: tuple(tf.gather(t, rows) for t in tensors)).prefetch(2)
    return dataset.with_options(_options())


def training_model(block, head):
    """A new Keras model of ``block``'s architecture, with ``head`` on top.

    An ensemble block without a head gives its members' outputs apart,
    ``(batch, n_members, width)``, each trained on its own loss (see
    :class:`CompiledModel`); under a head (the transformer's), the head
    sees their mean, the block's output.
    """
    trained = type(block).from_config(block.get_config())
    inputs = keras.Input(shape=(trained.input_dim,), dtype=trained.compute_dtype)
    outputs = trained(inputs, members=head is None)
    if head is not None:
        outputs = type(head).from_config(head.get_config())(outputs)
    return TrainingModel(inputs, outputs)


def architecture_key(block, head, loss, optimizer, steps):
    """What a kept training model must match to be reused; None: never reuse.

    ``steps``, the train steps of an epoch, is traced into the train
    function (one call runs an epoch); the batch size is not (its batch
    dimension is left open), so folds of different sizes whose epochs have
    as many steps share one trace, as do a search's folds and its refit.
    Losses given as objects may carry state of their own: only names reuse.
    The distribution in force (see :func:`distribution_key`) is part of the
    key: call this where the model would be built.
    """
    if not isinstance(loss, str):
        return None
    config = {k: v for k, v in block.get_config().items() if k not in ("name", "seed")}
    if config.get("preprocessing_model") is not None:
        return None
    head_units = None if head is None else head.units
    return (
        repr(sorted(config.items())),
        head_units,
        loss,
        optimizer,
        steps,
        distribution_key(),
    )


# ------------------------------------------------------------ reuse across fits
# Compiled training models by architecture, waiting for the next fit. A fit
# takes one out (so two threads never share one) and puts it back after.
_POOL_SIZE = 4
_pool = collections.OrderedDict()
_pool_lock = threading.Lock()


def checkout(key):
    """A :class:`CompiledModel` for ``key`` left by an earlier fit, or None."""
    with _pool_lock:
        models = _pool.get(key)
        if models:
            _pool.move_to_end(key)
            return models.pop()
    return None


def release(key, model):
    """Keep a :class:`CompiledModel` for the next fit of ``key`` (oldest go first)."""
    with _pool_lock:
        _pool.setdefault(key, []).append(model)
        _pool.move_to_end(key)
        while sum(len(models) for models in _pool.values()) > _POOL_SIZE:
            oldest = next(iter(_pool))
            _pool[oldest].pop(0)
            if not _pool[oldest]:
                del _pool[oldest]


def kept():
    """Number of compiled training models kept for later fits."""
    with _pool_lock:
        return sum(len(models) for models in _pool.values())


def clear_pool():
    """Forget every kept training model (frees their memory)."""
    with _pool_lock:
        _pool.clear()


class CompiledModel:
    """A compiled :class:`TrainingModel` that can be reset for another fit.

    Parameters
    ----------
    model : TrainingModel
        The model, not yet compiled.
    optimizer : str or keras optimizer class
        A fresh optimizer of this kind is made here, once.
    loss : keras loss
        See :func:`make_loss`; for a model that gives an ensemble's members'
        outputs apart (:func:`training_model`), each member's, averaged.
    steps_per_execution : int
        Train steps per call of the traced train function. 1 whatever is
        asked under a ``tf.distribute`` strategy: there Keras's multi-step
        train function fails, for any model ("You must feed a value for
        placeholder tensor", as in keras-team/keras#19246; Keras 3.15).

    Adam on TensorFlow, outside a ``tf.distribute`` strategy, is
    :class:`~sfne_sklearn.training._optimizers.FlatAdam`: the same updates,
    in one set of operations for all the small variables.

    The train step is compiled with XLA on JAX only: there a step that is
    not jitted runs op by op from Python (an epoch of concrete took 2-3 s
    so, 35 ms jitted); on TensorFlow the step is a graph already, and XLA
    was not measured faster for these small steps while it adds a compile
    per architecture.

    Build it (and the model) where it will train: under a ``tf.distribute``
    strategy's scope its variables and the optimizer's are mirrored.
    """

    def __init__(self, model, *, optimizer, loss, steps_per_execution):
        if _tf_strategy() is not None:
            steps_per_execution = 1
        if isinstance(optimizer, str):
            optimizer = type(keras.optimizers.get(optimizer))
        if (
            optimizer is keras.optimizers.Adam
            and keras.backend.backend() == "tensorflow"
            and _tf_strategy() is None
        ):
            # The same updates in a fifth of the graph (see _optimizers).
            optimizer = FlatAdam
        members = model.outputs[0].shape
        if len(members) == 3:  # (batch, n_members, width)
            loss = _MembersLoss(loss, members[1])
        model.compile(
            optimizer=optimizer(),
            loss=loss,
            steps_per_execution=steps_per_execution,
            jit_compile=keras.backend.backend() == "jax",
        )
        # Optimizers start from the values their variables are built with
        # (zero moments for Adam, but not for every optimizer): keep them.
        model.optimizer.build(model.trainable_variables)
        self._fresh_optimizer = [v.numpy() for v in model.optimizer.variables]
        # The trained parts' (block, head) seed states, for reset.
        self.seed_states = [v for part in model.layers[1:] for v in seed_states(part)]
        self.model = model

    def reset(self, weights, learning_rate, seeds=()):
        """Set new initial ``weights``, ``seeds`` and a fresh optimizer state.

        ``seeds``: the values of the new parts' :func:`seed_states` (their
        dropout's), which ``set_weights`` leaves alone: a reused model
        draws the dropout masks a fresh one seeded so would.
        """
        self.model.set_weights(weights)
        if len(self.seed_states) != len(seeds):
            raise ValueError(
                f"{len(seeds)} seed states given for a model with {len(self.seed_states)}."
            )
        for variable, value in zip(self.seed_states, seeds):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self._fresh_optimizer):
            variable.assign(value)
        self.model.optimizer.learning_rate = learning_rate


def seed_states(layer):
    """The state variables of ``layer``'s seed generators (its dropout's), in order.

    Keras counts them among a layer's variables but not its ``weights``.
    """
    weights = {id(v) for v in layer.weights}
    return [v for v in layer.non_trainable_variables if id(v) not in weights]


def initial_state(block, head):
    """The weights and seed states a fit of ``block`` (and ``head``) starts from.

    For :meth:`CompiledModel.reset`; builds ``head`` on the block's outputs.
    """
    parts = [block]
    if head is not None:
        head.build((None, block.output_dim))
        parts.append(head)
    weights = [w for part in parts for w in part.get_weights()]
    seeds = [keras.ops.convert_to_numpy(v) for part in parts for v in seed_states(part)]
    return weights, seeds


# ------------------------------------------------------------------ callbacks
def block_outputs(block, x):
    """``block(x)`` as a NumPy array, ``CHUNK_ROWS`` rows per call."""
    return np.concatenate(
        [np.asarray(block(x[start : start + CHUNK_ROWS])) for start in range(0, len(x), CHUNK_ROWS)]
    )


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's early stopping, keeping the weights of the lowest loss.

    Keras counts an epoch as its best only where the monitored loss improved
    by more than ``min_delta``, and restores that epoch: later improvements
    smaller than that (the fine-tuning after a learning rate is lowered)
    were lost. Here ``min_delta`` decides when to stop, as Keras does, and
    the weights kept (``best_epoch``) are those of the lowest loss seen, as
    scikit-learn's MLP keeps them. For losses (``mode="min"``).

    The weights are kept as a snapshot on the model's device (see
    ``_weights``), not copied to NumPy: Keras's own copy is left off. Given
    the fit's :class:`~sfne_sklearn.training._guards.DivergenceGuard`
    (``snapshots``), which runs first and snapshots every epoch, it keeps
    that snapshot instead of taking another.
    """

    def __init__(self, *, restore_best_weights=False, snapshots=None, **kwargs):
        super().__init__(restore_best_weights=False, mode="min", **kwargs)
        self.keep_best_weights = restore_best_weights
        self.snapshots = snapshots
        compare_in_python(self)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.lowest = None

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        current = (logs or {}).get(self.monitor)
        if current is None or epoch < self.start_from_epoch:
            return
        # Every epoch Keras counts as its best is also the lowest so far.
        if self.lowest is None or current < self.lowest:
            self.lowest = current
            self.best_epoch = epoch
            if self.keep_best_weights:
                taken = None if self.snapshots is None else self.snapshots.latest
                self.best_weights = taken if taken is not None else snapshot(self.model)[0]

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.keep_best_weights and self.best_weights is not None:
            restore(self.model, self.best_weights)


class PlateauSchedule(keras.callbacks.ReduceLROnPlateau):
    """Keras's ``ReduceLROnPlateau`` for a loss, comparing in Python."""

    def __init__(self, **kwargs):
        super().__init__(mode="min", **kwargs)
        compare_in_python(self)


def compare_in_python(callback):
    """Have a Keras monitor callback compare losses in Python, as Keras would.

    Keras's ``EarlyStopping`` and ``ReduceLROnPlateau`` compare the monitored
    loss with the best one through ``keras.ops.less``: an eager TensorFlow
    operation and its result read back, about 0.1 ms an epoch each, more
    than an epoch's validation of a small set. This makes the same decision
    in Python: ``keras.ops`` converts both floats to float32 first, and so
    does this. The sign of ``min_delta`` is the one Keras gives it for a
    loss (it subtracts it from the candidate).
    """
    callback.monitor_op = _less_as_float32
    callback.min_delta = -abs(callback.min_delta)


def _less_as_float32(a, b):
    return bool(np.float32(a) < np.float32(b))


class FitProgress(keras.callbacks.Callback):
    """Report a fit: one progress bar for the whole fit, or a line per epoch.

    Parameters
    ----------
    epochs : int
        The most epochs the fit may run.
    name : str
        The estimator's name, for the first and last lines.
    verbose : {1, 2}
        1: a bar over the epochs with the current losses and the time left.
        2: one line per epoch.
    """

    def __init__(self, epochs, name, verbose=1):
        super().__init__()
        self.epochs = epochs
        self.name = name
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        print(f"{self.name}: training for at most {self.epochs} epochs", flush=True)
        self._bar = None
        if self.verbose == 1:
            self._bar = keras.utils.Progbar(
                self.epochs, unit_name="epoch", stateful_metrics=("loss", "val_loss")
            )
        self._start = time.perf_counter()
        self._seen = 0

    def on_epoch_end(self, epoch, logs=None):
        self._seen = epoch + 1
        losses = [(k, v) for k, v in (logs or {}).items() if k.endswith("loss")]
        if self._bar is not None:
            self._bar.update(self._seen, values=losses, finalize=False)
        else:
            shown = " - ".join(f"{k}: {v:.4g}" for k, v in losses)
            print(f"Epoch {self._seen}/{self.epochs} - {shown}", flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.update(self._seen, finalize=True)
        print(
            f"{self.name}: stopped after {self._seen} epochs in "
            f"{time.perf_counter() - self._start:.1f} s",
            flush=True,
        )
