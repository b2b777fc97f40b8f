"""Training the block: the one door to scikeras, the Keras fit loop and its guards."""

import importlib


def require_keras(purpose):
    """Import Keras, or say which install brings it.

    The base install serves fitted estimators on NumPy alone; training and
    everything that builds a Keras model need the ``train`` extra.
    """
    try:
        return importlib.import_module("keras")
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs Keras and a backend, which this installation lacks (the base "
            "install only predicts with fitted estimators). Install them with: "
            'pip install "sfne-sklearn[train]"'
        ) from exc
