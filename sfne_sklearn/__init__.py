"""sfne_sklearn: the Slow-Fast Neural Engine for tabular data."""

import os

# TensorFlow's C++ start-up and graph-optimiser notices are noise for users;
# an explicit TF_CPP_MIN_LOG_LEVEL set by the user wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ._block import SFNEBlock
from ._classifier import SFNEClassifier
from ._data_analyzer import DataAnalyzer
from ._persistence import InconsistentVersionWarning, load, save
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
    "__version__",
    "load",
    "save",
]
