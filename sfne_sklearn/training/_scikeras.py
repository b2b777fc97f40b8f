"""The one door to scikeras.

scikeras runs the Keras training loop for us: it checks the arrays, builds
the model through a function, routes ``fit`` arguments and calls
``model.fit``. It is no longer maintained, so nothing else in the package
imports it: our estimators validate their own parameters and data, and only
hand clean arrays and a ready, compiled model through here.

What scikeras would otherwise change for the whole process is kept out:

- importing it replaces ``keras.Model.__reduce__``/``__deepcopy__`` (and
  those of losses, metrics and optimizers) for every Keras object; the
  originals are put back right after our import, so that only users who
  import scikeras themselves get its versions;
- given a ``random_state`` it reseeds Python, NumPy and TensorFlow and turns
  on TensorFlow's op determinism for the fit: we give it none, and seed
  every random choice explicitly instead (the block's initialisers, the
  shuffling, the validation split);
- it casts sample weights to ``keras.backend.floatx()`` (float32): weights
  reach the model's ``fit`` in the model's own dtype through ``fit__``
  routing instead.
"""

import sys
import threading

import keras

_PATCHED = (
    (keras.Model, ("__reduce__", "__deepcopy__")),
    (keras.losses.Loss, ("__reduce__",)),
    (keras.metrics.Metric, ("__reduce__",)),
    (keras.optimizers.Optimizer, ("__reduce__",)),
)
_import_lock = threading.Lock()


def _keras_regressor():
    """scikeras's KerasRegressor, imported without its process-wide patches."""
    with _import_lock:
        if "scikeras.wrappers" in sys.modules:
            return sys.modules["scikeras.wrappers"].KerasRegressor
        fresh_import = "scikeras" not in sys.modules
        saved = [(cls, name, cls.__dict__.get(name)) for cls, names in _PATCHED for name in names]
        from scikeras.wrappers import KerasRegressor

        if fresh_import:
            for cls, name, original in saved:
                if original is None:
                    if name in cls.__dict__:
                        delattr(cls, name)
                else:
                    setattr(cls, name, original)
        return KerasRegressor


def fit_keras_model(
    model,
    X,
    y,
    *,
    sample_weight,
    epochs,
    batch_size,
    callbacks,
    seed,
):
    """Train the compiled ``model`` (a TrainingModel) through scikeras.

    Returns the history as a dict of lists.
    """
    KerasRegressor = _keras_regressor()
    wrapper = KerasRegressor(
        model=lambda: model,
        loss=model.loss,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=callbacks,
        verbose=0,
        shuffle=True,
        # Not scikeras's random_state (it reseeds the whole process): the
        # model's fit shuffles with this seed alone.
        fit__seed=seed,
        fit__exact_sample_weight=sample_weight,
    )
    wrapper.fit(X, y)
    return {key: list(values) for key, values in wrapper.history_.items()}
