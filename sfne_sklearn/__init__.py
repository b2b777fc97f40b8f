"""sfne_sklearn: the Slow-Fast Neural Engine for tabular data."""

import os
import sys
from typing import TYPE_CHECKING

# TensorFlow's C++ log lines are noise for users of the estimators: start-up
# notices, and on machines without a GPU an E-level "failed call to cuInit"
# at the first fit. Level 3 keeps only fatal ones (errors still raise Python
# exceptions); an explicit TF_CPP_MIN_LOG_LEVEL set by the user wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ._version import __version__
from .estimators import _classifier, _regressor, _transformer
from .estimators._classifier import SFNEClassifier
from .estimators._regressor import SFNERegressor
from .estimators._transformer import SFNETransformer
from .preprocessing import _columns
from .serving._onnx import to_onnx
from .serving._persistence import TRUSTED_TYPES, InconsistentVersionWarning, load, save

# Pickles and sfne_sklearn.save archives written by 0.1.0 name the modules of
# its flat layout: they resolve to the modules that now hold those classes.
for _old, _module in {
    "_classifier": _classifier,
    "_regressor": _regressor,
    "_transformer": _transformer,
    "_preprocessing": _columns,
}.items():
    sys.modules.setdefault(f"{__name__}.{_old}", _module)
del _old, _module, _classifier, _regressor, _transformer, _columns

# The Keras side is imported at first use: the estimators train with Keras
# but predict with NumPy, so serving a loaded estimator never imports Keras
# or its backend (TensorFlow alone takes seconds to import).
if TYPE_CHECKING:  # what type checkers and the API reference see
    from .model._block import SFNEBlock
    from .preprocessing._data_analyzer import DataAnalyzer

_KERAS_NAMES = {
    "SFNEBlock": "sfne_sklearn.model._block",
    "DataAnalyzer": "sfne_sklearn.preprocessing._data_analyzer",
}


def __getattr__(name):
    if name in _KERAS_NAMES:
        import importlib

        value = getattr(importlib.import_module(_KERAS_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_KERAS_NAMES))


__all__ = [
    "DataAnalyzer",
    "InconsistentVersionWarning",
    "SFNEBlock",
    "SFNEClassifier",
    "SFNERegressor",
    "SFNETransformer",
    "TRUSTED_TYPES",
    "__version__",
    "load",
    "save",
    "to_onnx",
]
