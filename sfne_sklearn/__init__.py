"""sfne_sklearn: the Slow-Fast Neural Engine for tabular data."""

import os

# TensorFlow's C++ log lines are noise for users of the estimators: start-up
# notices, and on machines without a GPU an E-level "failed call to cuInit"
# at the first fit. Level 3 keeps only fatal ones (errors still raise Python
# exceptions); an explicit TF_CPP_MIN_LOG_LEVEL set by the user wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ._block import SFNEBlock
from ._classifier import SFNEClassifier
from ._data_analyzer import DataAnalyzer
from ._persistence import TRUSTED_TYPES, InconsistentVersionWarning, load, save
from ._regressor import SFNERegressor
from ._transformer import SFNETransformer

__version__ = "0.1.0"

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
]
