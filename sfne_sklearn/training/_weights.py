"""Snapshots of a model's weights, kept where the weights live.

The divergence guard keeps the weights of the last finite epoch, early
stopping those of the best epoch. ``get_weights`` copies them to NumPy one
variable per call: about 1 ms an epoch for the default block, an eighth of
a small fit's time. :func:`snapshot` takes them all in one traced call, as
tensors of the backend, and says whether they are all finite.

A snapshot stays as it was while training goes on: on TensorFlow an
optimizer's update copies a variable's buffer before writing to it while a
snapshot still holds that buffer (copy on write), and JAX arrays are
immutable.
"""

import keras
from keras import ops


def copies_and_finite(values):
    """Copies of ``values`` (backend tensors) and whether every float one is finite."""
    floats = [v for v in values if "float" in keras.backend.standardize_dtype(v.dtype)]
    finite = ops.all(ops.stack([ops.all(ops.isfinite(v)) for v in floats]))
    return [ops.copy(v) for v in values], finite


class _Snapshots:
    """A model's weights and the traced call that copies them all at once.

    Kept on the model (a plain object, which Keras does not track), so a
    model reused by a later fit keeps its traced call.
    """

    def __init__(self, model):
        self.variables = list(model.weights)
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            self._take = tf.function(
                lambda: copies_and_finite([v.value for v in self.variables])
            )
        elif backend == "jax":
            import jax

            # Values as arguments: jax.jit would take variables read inside
            # as constants of the first call.
            jitted = jax.jit(copies_and_finite)
            self._take = lambda: jitted([v.value for v in self.variables])
        else:
            self._take = lambda: copies_and_finite([v.value for v in self.variables])

    def take(self):
        weights, finite = self._take()
        return list(weights), bool(finite)

    def restore(self, weights):
        for variable, value in zip(self.variables, weights, strict=True):
            variable.assign(value)


def _snapshots(model):
    snapshots = getattr(model, "_weight_snapshots", None)
    if snapshots is None:
        snapshots = model._weight_snapshots = _Snapshots(model)
    return snapshots


def snapshot_variables(model):
    """The variables a snapshot of ``model`` copies, in its order."""
    return _snapshots(model).variables


def snapshot(model):
    """The current weights of ``model`` and whether they are all finite.

    Returns
    -------
    weights : list of backend tensors
        In the order of ``model.weights``; see :func:`restore`.
    finite : bool
    """
    return _snapshots(model).take()


def restore(model, weights):
    """Put back weights taken by :func:`snapshot`."""
    _snapshots(model).restore(weights)
