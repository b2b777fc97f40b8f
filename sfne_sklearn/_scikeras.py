"""The one door to scikeras.

scikeras runs the Keras training loop for us: it compiles the model from
``optimizer``/``optimizer__learning_rate``/``loss``, routes ``callbacks`` and
``fit`` arguments, and trains under a seeded, deterministic TensorFlow state.
It is no longer maintained, so nothing else in the package imports it: our
estimators validate their own parameters and data, and only hand clean arrays
and a model-building function through here.
"""

import contextlib
import logging
import random

import keras
import numpy as np


@contextlib.contextmanager
def seeded(seed):
    """Seed Keras (and the global RNGs it uses) without leaking the change.

    ``keras.utils.set_random_seed`` also reseeds Python's and NumPy's global
    generators; the user's streams are restored on exit.
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    try:
        keras.utils.set_random_seed(seed)
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


@contextlib.contextmanager
def keras_floatx(dtype):
    """Make Keras's default float type ``dtype`` while training.

    Keras computes losses, and scikeras casts sample weights, in
    ``keras.backend.floatx()`` (float32) whatever the model's dtype; a model
    trained in float64 needs both in float64 too.
    """
    previous = keras.backend.floatx()
    keras.backend.set_floatx(np.dtype(dtype).name)
    try:
        yield
    finally:
        keras.backend.set_floatx(previous)


class _RetracingFilter(logging.Filter):
    # Each fit builds a new model, so Keras traces a new train function each
    # time; after five fits in one process (a grid search) TensorFlow warns
    # about "retracing" although nothing is wrong.
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing_warning():
    logger = logging.getLogger("tensorflow")
    log_filter = _RetracingFilter()
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


def fit_keras_model(
    build_model,
    X,
    y,
    *,
    sample_weight,
    optimizer,
    learning_rate,
    loss,
    epochs,
    batch_size,
    callbacks,
    validation_data,
    verbose,
    seed,
):
    """Train the model made by ``build_model()`` through scikeras.

    Returns the trained Keras model and its history as a dict of lists.
    """
    from scikeras.wrappers import KerasRegressor

    wrapper = KerasRegressor(
        model=build_model,
        optimizer=optimizer,
        optimizer__learning_rate=learning_rate,
        loss=loss,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=True,
        random_state=seed,
        fit__validation_data=validation_data,
    )
    with seeded(seed), keras_floatx(X.dtype), quiet_retracing_warning():
        wrapper.fit(X, y, sample_weight=sample_weight)
    return wrapper.model_, {key: list(values) for key, values in wrapper.history_.items()}
