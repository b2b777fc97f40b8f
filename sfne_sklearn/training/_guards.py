"""Guards around a Keras training run: divergence and leaked memory.

- :class:`DivergenceGuard` stops training that diverges and keeps the last
  finite weights. Keras's ``TerminateOnNaN`` stops at a non-finite loss but
  leaves the non-finite weights in the model, which then predicts NaN
  without a word.
- :func:`releasing_train_graphs` frees what TensorFlow keeps of each
  training run, so that a process can fit many estimators in a row.
"""

import contextlib
import warnings

import keras
import numpy as np

from ._weights import restore, snapshot

# Keras's EarlyStopping compares losses as float32 tensors and fails on larger
# values, so a loss past float32's range counts as diverged even in float64.
_LARGEST_LOSS = float(np.finfo(np.float32).max)


class TrainingDiverged(Exception):
    """Raised by :class:`DivergenceGuard` to end ``model.fit``.

    Parameters
    ----------
    epoch : int
        The (1-based) epoch in which training diverged.
    logs : dict
        The losses that showed it.
    """

    def __init__(self, epoch, logs):
        super().__init__(f"training diverged in epoch {epoch}: {logs}")
        self.epoch = epoch
        self.logs = logs


def _diverged(logs):
    return any(
        not np.isfinite(value) or abs(value) > _LARGEST_LOSS
        for key, value in (logs or {}).items()
        if key.endswith("loss")
    )


class DivergenceGuard(keras.callbacks.Callback):
    """Snapshot the weights after each finite epoch; restore them on divergence.

    A loss (training or validation) that is not finite or that is past
    float32's range, or weights that are not finite, end training: the guard
    puts back the weights of the last finite epoch and raises
    :class:`TrainingDiverged` out of ``model.fit``. Raising, rather than
    setting ``stop_training``, keeps the callbacks after it (early stopping,
    the history) from ever seeing the diverged epoch.

    Given held-out rows (``validation``: ``(x, y)`` or ``(x, y,
    sample_weight)``), it also adds their loss to each epoch's logs as
    ``val_loss``, computed in the same traced call as the snapshot
    (``TrainingModel.epoch_state``). Put it first in the callback list.

    Attributes
    ----------
    history : dict of list
        The logs of the finite epochs, as in ``keras.callbacks.History``.
    latest : list of backend tensors or None
        The snapshot of the last finite epoch (see ``_weights``).
    """

    def __init__(self, validation=None):
        super().__init__()
        self.validation = tuple(validation) if validation is not None else ()
        self.history = {}
        self.latest = None

    def on_train_batch_end(self, batch, logs=None):
        # The batch logs hold the epoch's running mean: once a batch is
        # non-finite the rest of the epoch is wasted work.
        if _diverged(logs):
            self._diverge(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.validation:
            val_loss, weights, finite = self.model.epoch_state(*self.validation)
            if logs is not None:
                logs["val_loss"] = val_loss
        else:
            weights, finite = snapshot(self.model)
        if _diverged(logs) or not finite:
            self._diverge(logs)
        self.latest = weights
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def _diverge(self, logs):
        if self.latest is not None:
            restore(self.model, self.latest)
        raise TrainingDiverged(len(self.history.get("loss", [])) + 1, dict(logs or {}))


def _closure_names(function, depth=4):
    """Qualified names of the functions held, directly or not, in ``function``'s closure."""
    for cell in getattr(function, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(value):
            yield getattr(value, "__qualname__", "")
            if depth > 1:
                yield from _closure_names(value, depth - 1)


# TensorFlow releases whose private gradient registry has the layout that
# releasing_train_graphs edits: those pyproject admits (>=2.16) up to the one
# the test suite runs on.
_TESTED_TENSORFLOW = ((2, 16), (2, 21))
_UPSTREAM_ISSUE = "tensorflow/tensorflow#97697"
_warned = False


def gradient_registry():
    """TensorFlow's global gradient registry, or None where it is not ours to edit.

    None on other backends, on TensorFlow releases outside
    ``_TESTED_TENSORFLOW``, and where the private structure
    (``ops._gradient_registry._registry``, a dict) is not the expected one;
    in the last two cases a warning says once per process that fits of new
    architectures will hold on to memory. The test suite reads the registry
    through this function too.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf
    from tensorflow.python.framework import ops

    version = tuple(int(part) for part in tf.__version__.split(".")[:2] if part.isdigit())
    low, high = _TESTED_TENSORFLOW
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if low <= version <= high and isinstance(registry, dict):
        return registry
    global _warned
    if not _warned:
        _warned = True
        reason = (
            f"TensorFlow {tf.__version__} is outside the tested releases "
            f"{'.'.join(map(str, low))}-{'.'.join(map(str, high))}"
            if not low <= version <= high
            else "TensorFlow's gradient registry is not laid out as expected"
        )
        warnings.warn(
            f"{reason}: sfne_sklearn leaves the graphs that TensorFlow keeps of each "
            f"traced train step in place ({_UPSTREAM_ISSUE}), so each fit of a new "
            "architecture keeps about 15 MB for the life of the process.",
            RuntimeWarning,
            stacklevel=3,
        )
    return None


@contextlib.contextmanager
def releasing_train_graphs():
    """Drop the gradient registrations that TensorFlow leaks while training.

    Each trace of a Keras train step under TensorFlow registers the custom
    gradient of the optimizer's gradient all-reduce in TensorFlow's global
    gradient registry, and never removes it; the registration holds the
    traced graph: about 15 MB per traced fit of a small model, for the life
    of the process (tensorflow/tensorflow#97697; ``keras.backend.clear_session``
    does not free it, and there is no public API to unregister a gradient).
    Fits of an architecture already trained reuse their traced step (see
    ``_training``) and trace nothing; a new architecture traces once. Nothing
    differentiates through that all-reduce, so the registrations made inside
    the block, and only those, are dropped on exit. Where the registry is not
    ours to edit (see :func:`gradient_registry`) nothing is touched.
    """
    registry = gradient_registry()
    if registry is None:
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        for name in set(registry) - before:
            entry = registry.get(name)
            if (
                name.startswith("CustomGradient-")
                and isinstance(entry, dict)
                and any("all_reduce" in n for n in _closure_names(entry.get("type")))
            ):
                registry.pop(name, None)
